package admin

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/zkx-dev/zkx/pkg/storage/badger"
)

// ErrOutputExists is returned by BackupFile when the output file already
// exists: a backup never overwrites a file.
var ErrOutputExists = errors.New("admin: output file exists")

// Options configure the commands. The zero value is usable.
type Options struct {
	// Logger receives the store's and badger's logs. Default: discarded,
	// as the commands report their outcome themselves.
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// BackupFile writes a backup of the store in dataDir to the new file out.
// It fails with badger.ErrLocked while a zkx runs on dataDir, with
// badger.ErrNoStore when dataDir holds no store, and with ErrOutputExists
// when out exists. The backup is written to a temporary file next to out,
// synced, and linked to out only when complete.
func BackupFile(dataDir, out string, opts Options) (badger.BackupInfo, error) {
	if out == "" {
		return badger.BackupInfo{}, errors.New("admin: backup: no output file given")
	}
	if _, err := os.Lstat(out); err == nil {
		return badger.BackupInfo{}, fmt.Errorf("%w: %s (a backup never overwrites a file; remove it or choose another name)", ErrOutputExists, out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return badger.BackupInfo{}, fmt.Errorf("admin: backup: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return badger.BackupInfo{}, fmt.Errorf("admin: backup: create output: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful link, only the temporary name goes

	bi, err := badger.Backup(dataDir, f, badger.Options{Logger: opts.logger()})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return badger.BackupInfo{}, err
	}
	// Link, unlike rename, fails when out appeared meanwhile.
	if err := os.Link(tmp, out); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return badger.BackupInfo{}, fmt.Errorf("%w: %s", ErrOutputExists, out)
		}
		return badger.BackupInfo{}, fmt.Errorf("admin: backup: %w", err)
	}
	syncDir(filepath.Dir(out))
	return bi, nil
}

// RestoreFile restores the backup file in into dataDir. dataDir must be
// missing or empty unless force is set, in which case its contents are
// deleted once the backup has been verified (never while a zkx has the
// directory open: badger.ErrLocked). A file that is not a valid backup
// fails with badger.ErrBadBackup before dataDir is touched.
func RestoreFile(in, dataDir string, force bool, opts Options) (badger.BackupInfo, error) {
	if in == "" {
		return badger.BackupInfo{}, errors.New("admin: restore: no input file given")
	}
	f, err := os.Open(in)
	if err != nil {
		return badger.BackupInfo{}, fmt.Errorf("admin: restore: %w", err)
	}
	defer f.Close()
	return badger.Restore(f, dataDir, badger.RestoreOptions{Force: force, Logger: opts.logger()})
}

// syncDir makes a rename or link in dir durable; failing to is not worth
// failing a finished backup for, the data itself is already synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
