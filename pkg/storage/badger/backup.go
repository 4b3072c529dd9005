package badger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/zkx-dev/zkx/pkg/storage"
)

// Errors of the offline tools (Backup, Restore, OpenExisting), wrapped
// with the file or directory and the cause; test for them with errors.Is.
var (
	// ErrNoStore means a directory that should hold a zkx store is
	// missing or empty.
	ErrNoStore = errors.New("badger: no zkx store in data dir")
	// ErrNotEmpty means Restore was pointed at a directory that already
	// holds files and was not told to replace them.
	ErrNotEmpty = errors.New("badger: data dir is not empty")
	// ErrBadBackup means a backup file is not a zkx backup, is of a newer
	// format, or is truncated or damaged.
	ErrBadBackup = errors.New("badger: invalid backup")
)

// Backup file layout. A backup is a fixed-size header followed by badger's
// own backup stream (DB.Backup) of the whole store:
//
//	magic "ZKXBAKUP" | header version u32 | store format u32 |
//	last zxid i64 | created unix ns i64 | stream length u64 |
//	stream SHA-256 [32] | CRC-32C of the preceding header bytes u32
//
// Integers are big-endian. The stream length and hash let Restore verify
// the whole file before it touches the target directory: badger's stream
// has no checksum of its own and trusts the lengths it reads.
const (
	backupMagic         = "ZKXBAKUP"
	backupHeaderVersion = 1
	backupHeaderSize    = 8 + 4 + 4 + 8 + 8 + 8 + sha256.Size + 4
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// BackupInfo describes a backup: what its header records.
type BackupInfo struct {
	// Format is the store format version of the backed-up store.
	Format uint32
	// LastZxid is the last committed zxid of the backed-up store.
	LastZxid int64
	// Created is when the backup was taken.
	Created time.Time
	// StreamBytes is the size of the backup stream after the header.
	StreamBytes int64
	// SHA256 is the hash of the backup stream.
	SHA256 [sha256.Size]byte
}

func (bi *BackupInfo) marshal() []byte {
	b := make([]byte, 0, backupHeaderSize)
	b = append(b, backupMagic...)
	b = binary.BigEndian.AppendUint32(b, backupHeaderVersion)
	b = binary.BigEndian.AppendUint32(b, bi.Format)
	b = binary.BigEndian.AppendUint64(b, uint64(bi.LastZxid))
	b = binary.BigEndian.AppendUint64(b, uint64(bi.Created.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(bi.StreamBytes))
	b = append(b, bi.SHA256[:]...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// ReadBackupInfo reads and checks the header of a backup from r, leaving r
// at the start of the backup stream. It fails with ErrBadBackup for a file
// that is not a zkx backup, a damaged header, or a header or store format
// newer than this build reads. It does not verify the stream; Restore does.
func ReadBackupInfo(r io.Reader) (BackupInfo, error) {
	var h [backupHeaderSize]byte
	n, err := io.ReadFull(r, h[:])
	if err != nil {
		if n >= len(backupMagic) && string(h[:len(backupMagic)]) == backupMagic {
			return BackupInfo{}, fmt.Errorf("%w: header truncated at %d of %d bytes", ErrBadBackup, n, backupHeaderSize)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return BackupInfo{}, fmt.Errorf("%w: not a zkx backup (%d bytes, too short for a header)", ErrBadBackup, n)
		}
		return BackupInfo{}, fmt.Errorf("badger: read backup header: %w", err)
	}
	if string(h[:len(backupMagic)]) != backupMagic {
		return BackupInfo{}, fmt.Errorf("%w: not a zkx backup (no %q magic)", ErrBadBackup, backupMagic)
	}
	body := h[:backupHeaderSize-4]
	if want, got := binary.BigEndian.Uint32(h[backupHeaderSize-4:]), crc32.Checksum(body, crcTable); want != got {
		return BackupInfo{}, fmt.Errorf("%w: header checksum mismatch (damaged file)", ErrBadBackup)
	}
	p := body[len(backupMagic):]
	if v := binary.BigEndian.Uint32(p); v != backupHeaderVersion {
		return BackupInfo{}, fmt.Errorf("%w: backup header version %d, this zkx reads %d (use the zkx that wrote it, or a newer one)",
			ErrBadBackup, v, backupHeaderVersion)
	}
	bi := BackupInfo{
		Format:      binary.BigEndian.Uint32(p[4:]),
		LastZxid:    int64(binary.BigEndian.Uint64(p[8:])),
		Created:     time.Unix(0, int64(binary.BigEndian.Uint64(p[16:]))),
		StreamBytes: int64(binary.BigEndian.Uint64(p[24:])),
	}
	copy(bi.SHA256[:], p[32:])
	switch {
	case bi.Format == 0:
		return BackupInfo{}, fmt.Errorf("%w: store format 0", ErrBadBackup)
	case bi.Format > formatVersion:
		return BackupInfo{}, fmt.Errorf("%w: store format %d, this zkx reads up to %d (upgrade zkx)", ErrBadBackup, bi.Format, formatVersion)
	case bi.StreamBytes < 0:
		return BackupInfo{}, fmt.Errorf("%w: negative stream length", ErrBadBackup)
	}
	return bi, nil
}

// OpenExisting is Open for tools that must not create a store: it fails
// with ErrNoStore when dir is missing or empty, and otherwise opens it as
// Open does (refusing a locked directory with ErrLocked).
func OpenExisting(dir string, opts Options) (*Store, error) {
	if err := checkExisting(dir); err != nil {
		return nil, err
	}
	return Open(dir, opts)
}

func checkExisting(dir string) error {
	if dir == "" {
		return errors.New("badger: no data dir given")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s does not exist", ErrNoStore, dir)
	}
	if err != nil {
		return fmt.Errorf("badger: data dir %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.Name() == "MANIFEST" {
			return nil
		}
	}
	if len(entries) == 0 {
		return fmt.Errorf("%w: %s is empty", ErrNoStore, dir)
	}
	return fmt.Errorf("%w: %s has no badger MANIFEST", ErrNotStore, dir)
}

// Backup writes a consistent backup of the store in dir to w: the header,
// then badger's backup stream of every record. The directory must hold a
// zkx store that no process has open (ErrLocked otherwise): Backup opens
// it exclusively, so nothing changes while it is read. A batch that was
// being committed when zkx stopped is completed or discarded first, as at
// any Open.
//
// w must be seekable: the header, which records the stream's length and
// hash, is written last, at offset 0. Callers that want a file to appear
// only when complete write to a temporary name and rename it.
func Backup(dir string, w io.WriteSeeker, opts Options) (BackupInfo, error) {
	s, err := OpenExisting(dir, opts)
	if err != nil {
		return BackupInfo{}, err
	}
	bi, err := s.backup(w)
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return BackupInfo{}, err
	}
	return bi, nil
}

func (s *Store) backup(w io.WriteSeeker) (BackupInfo, error) {
	bi := BackupInfo{Created: time.Now(), LastZxid: s.lastZxid}
	err := s.db.View(func(txn *bdg.Txn) error {
		item, err := txn.Get(keyFormat)
		if err != nil {
			return fmt.Errorf("read format marker: %w", err)
		}
		return item.Value(func(v []byte) error {
			if len(v) != 4 {
				return fmt.Errorf("%w: format marker of %d bytes", ErrCorrupt, len(v))
			}
			bi.Format = binary.BigEndian.Uint32(v)
			return nil
		})
	})
	if err != nil {
		return BackupInfo{}, fmt.Errorf("badger: backup %s: %w", s.dir, err)
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("badger: backup %s: %w", s.dir, err)
	}
	// Placeholder header; the real one is written once the stream's length
	// and hash are known.
	if _, err := w.Write(make([]byte, backupHeaderSize)); err != nil {
		return BackupInfo{}, fmt.Errorf("badger: backup %s: write header: %w", s.dir, err)
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	if _, err := s.db.Backup(cw, 0); err != nil {
		return BackupInfo{}, fmt.Errorf("badger: backup %s: %w", s.dir, err)
	}
	bi.StreamBytes = cw.n
	copy(bi.SHA256[:], h.Sum(nil))
	if _, err := w.Seek(start, io.SeekStart); err != nil {
		return BackupInfo{}, fmt.Errorf("badger: backup %s: %w", s.dir, err)
	}
	if _, err := w.Write(bi.marshal()); err != nil {
		return BackupInfo{}, fmt.Errorf("badger: backup %s: write header: %w", s.dir, err)
	}
	if _, err := w.Seek(start+backupHeaderSize+bi.StreamBytes, io.SeekStart); err != nil {
		return BackupInfo{}, fmt.Errorf("badger: backup %s: %w", s.dir, err)
	}
	return bi, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// RestoreOptions configure Restore. The zero value restores only into a
// missing or empty directory.
type RestoreOptions struct {
	// Force allows restoring into a directory that already holds files:
	// they are deleted first (after the backup has been verified and
	// after checking that no process has the directory open). Without it
	// such a directory is refused with ErrNotEmpty.
	Force bool
	// Logger receives badger's logs while restoring. Default
	// slog.Default().
	Logger *slog.Logger
}

// Restore recreates a store in dir from a backup read from r (positioned
// at the header). It first verifies the header and the whole stream
// (length and SHA-256) without touching dir, so a damaged file changes
// nothing. dir must be missing (its parent must exist) or empty, unless
// opts.Force is set. The restored store is then opened and read back in
// full; its last zxid must match the header's. If any step after dir was
// touched fails, the files Restore wrote are removed again.
func Restore(r io.ReadSeeker, dir string, opts RestoreOptions) (BackupInfo, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if dir == "" {
		return BackupInfo{}, errors.New("badger: restore: no data dir given")
	}
	base, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("badger: restore: %w", err)
	}
	bi, err := ReadBackupInfo(r)
	if err != nil {
		return BackupInfo{}, err
	}
	if err := verifyStream(r, bi); err != nil {
		return BackupInfo{}, err
	}

	created, err := prepareRestoreDir(dir, opts.Force)
	if err != nil {
		return BackupInfo{}, err
	}
	if err := loadBackup(r, base+backupHeaderSize, dir, bi, opts.Logger); err != nil {
		if cerr := clearDir(dir); cerr != nil {
			opts.Logger.Warn("could not remove a failed restore", "dir", dir, "err", cerr)
		} else if created {
			_ = os.Remove(dir)
		}
		return BackupInfo{}, err
	}
	return bi, nil
}

// verifyStream reads the stream after the header and checks its length
// and hash against the header.
func verifyStream(r io.Reader, bi BackupInfo) error {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(r, bi.StreamBytes))
	if err != nil {
		return fmt.Errorf("badger: restore: read backup: %w", err)
	}
	if n != bi.StreamBytes {
		return fmt.Errorf("%w: truncated: the header announces %d bytes of data, the file has %d", ErrBadBackup, bi.StreamBytes, n)
	}
	if !bytes.Equal(h.Sum(nil), bi.SHA256[:]) {
		return fmt.Errorf("%w: data checksum mismatch (damaged file)", ErrBadBackup)
	}
	var extra [1]byte
	if m, _ := r.Read(extra[:]); m > 0 {
		return fmt.Errorf("%w: unexpected bytes after the backup data", ErrBadBackup)
	}
	return nil
}

// prepareRestoreDir makes sure dir exists and is empty, deleting its
// contents when force is set and no process holds its lock. created
// reports whether Restore made the directory.
func prepareRestoreDir(dir string, force bool) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Mkdir(dir, 0o750); err != nil {
			return false, fmt.Errorf("badger: restore: create data dir %s: %w", dir, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("badger: restore: data dir %s: %w", dir, err)
	}
	n := 0
	for _, e := range entries {
		if e.Name() != "lost+found" {
			n++
		}
	}
	if n == 0 {
		return false, nil
	}
	if !force {
		return false, fmt.Errorf("%w: %s holds %d entries; restore only into an empty or missing directory, or pass --force to delete its contents first",
			ErrNotEmpty, dir, n)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return false, err
	}
	defer unlock()
	if err := clearDir(dir); err != nil {
		return false, fmt.Errorf("badger: restore: empty data dir %s: %w", dir, err)
	}
	return false, nil
}

// lockDir takes badger's directory lock the way badger does (an exclusive,
// non-blocking flock on the directory itself), so a data dir in use by a
// running zkx is never deleted. No badger database is opened.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("badger: restore: lock data dir %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (is a zkx running on it? stop it before restoring)", ErrLocked, dir)
		}
		return nil, fmt.Errorf("badger: restore: lock data dir %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// clearDir deletes everything in dir but a lost+found entry.
func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == "lost+found" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// loadBackup loads the stream at offset into a new badger database in the
// empty dir, then opens it as a zkx store and reads every record back.
func loadBackup(r io.ReadSeeker, offset int64, dir string, bi BackupInfo, logger *slog.Logger) error {
	if _, err := r.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("badger: restore: %w", err)
	}
	o := Options{Sync: true, Logger: logger}
	o.setDefaults()
	db, err := bdg.Open(o.badgerOptions(dir))
	if err != nil {
		return fmt.Errorf("badger: restore: open %s: %w", dir, err)
	}
	// 256 pending writes is badger's own example value: it bounds memory
	// while loading, not correctness.
	lerr := db.Load(io.LimitReader(r, bi.StreamBytes), 256)
	cerr := db.Close()
	if lerr != nil {
		return fmt.Errorf("%w: load into %s: %v", ErrBadBackup, dir, lerr)
	}
	if cerr != nil {
		return fmt.Errorf("badger: restore: close %s: %w", dir, cerr)
	}

	s, err := Open(dir, o)
	if err != nil {
		return fmt.Errorf("badger: restore: reopen %s: %w", dir, err)
	}
	st, err := s.Load(context.Background(), func(storage.Node) error { return nil })
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("badger: restore: read back %s: %w", dir, err)
	}
	if st.LastZxid != bi.LastZxid {
		return fmt.Errorf("%w: restored store has last zxid %#x, the header says %#x", ErrBadBackup, st.LastZxid, bi.LastZxid)
	}
	return nil
}
