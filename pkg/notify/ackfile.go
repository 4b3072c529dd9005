package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ackRecord is the content of a plugin's ack file.
type ackRecord struct {
	// Zxid: every event for the plugin with a zxid <= Zxid was
	// acknowledged.
	Zxid int64 `json:"zxid"`
}

// readAck returns the acknowledged zxid stored at path; ok is false when
// there is no file (a plugin that never ran).
func readAck(path string) (zxid int64, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var rec ackRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return 0, false, fmt.Errorf("notify: ack file %s is corrupt: %w", path, err)
	}
	return rec.Zxid, true, nil
}

// writeAck stores zxid at path atomically: the new content is written to a
// temporary file in the same directory, synced, and renamed over the old
// file, and the directory is synced so the rename survives a crash.
func writeAck(path string, zxid int64) error {
	b, _ := json.Marshal(ackRecord{Zxid: zxid})
	b = append(b, '\n')
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// AckedPosition returns the acknowledged zxid of plugin name, as stored in
// its ack file under dir; ok is false when the plugin never acknowledged
// anything there.
func AckedPosition(dir, name string) (zxid int64, ok bool, err error) {
	return readAck(ackPath(dir, name))
}

// SetAckedPosition stores zxid as plugin name's acknowledged position
// under dir, atomically. A replicated server uses it on the members that
// do not run the plugins, so that whichever member leads next resumes
// delivery where the plugin's acknowledgements reached.
func SetAckedPosition(dir, name string, zxid int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeAck(ackPath(dir, name), zxid)
}
