package badger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/zkx-dev/zkx/pkg/storage"
)

// Errors returned by Open and Load, wrapped with the data directory and
// the cause; test for them with errors.Is.
var (
	// ErrLocked means another process (or another Store in this process)
	// has the data directory open.
	ErrLocked = errors.New("badger: data dir is locked by another process")
	// ErrNotStore means the directory holds files but is not a zkx store.
	ErrNotStore = errors.New("badger: data dir is not a zkx store")
	// ErrFutureFormat means the store was written by a newer zkx whose
	// format this build cannot read.
	ErrFutureFormat = errors.New("badger: data dir has a newer store format")
	// ErrCorrupt means a stored record cannot be decoded.
	ErrCorrupt = errors.New("badger: corrupt store")
)

// Defaults of Options. The store is sized for a small server whose whole
// tree already lives in memory (pkg/tree): badger only has to absorb writes
// and replay them once at startup, so its caches can be small.
const (
	// DefaultMemTableSize bounds one in-memory write buffer. 8 MiB holds
	// tens of thousands of typical znode writes before a flush to disk,
	// and it also sets badger's largest single transaction (15% of it,
	// ~1.2 MiB), which still fits a full 1 MiB znode value.
	DefaultMemTableSize = 8 << 20
	// DefaultNumMemtables is one buffer being written plus one being
	// flushed; more only helps write bursts larger than the disk can take,
	// at 8 MiB+ of memory each.
	DefaultNumMemtables = 2
	// DefaultBlockCacheSize caches table blocks. Reads come from the
	// in-memory tree, so badger reads only at startup; 8 MiB is plenty.
	DefaultBlockCacheSize = 8 << 20
	// DefaultIndexCacheSize bounds the memory of table indexes and bloom
	// filters (0 would keep every index in memory, growing with the store).
	DefaultIndexCacheSize = 4 << 20
	// DefaultValueLogFileSize keeps value-log files at 16 MiB instead of
	// badger's 1 GiB, so garbage collection can reclaim space in small
	// steps on a small store, and so the free space badger must be sure of
	// before each write (see spaceReserve) stays small.
	DefaultValueLogFileSize = 16 << 20
	// DefaultGCInterval is how often the value log is garbage collected.
	// Only values over 1 MiB live there, so a rare pass is enough.
	DefaultGCInterval = 10 * time.Minute
	// gcDiscardRatio rewrites a value-log file once half of it is garbage,
	// badger's recommendation (write amplification about 2).
	gcDiscardRatio = 0.5
)

// Options configure a Store. The zero value of every field means its
// default, except Sync: its zero value (false) does not sync; zkx's
// configuration turns it on by default (storage.sync).
type Options struct {
	// Sync makes every Commit return only after its batch is on disk
	// (badger writes with SyncWrites, which msyncs the write-ahead log and
	// the value log). Without it a commit reaches the operating system but
	// not the disk: a process crash loses nothing, a power loss or kernel
	// crash loses the last moments of acknowledged writes.
	Sync bool
	// MemTableSize is the size of one in-memory write buffer, and 15% of
	// it is the largest badger transaction. Default DefaultMemTableSize.
	MemTableSize int64
	// NumMemtables is how many write buffers may exist at once. Default
	// DefaultNumMemtables.
	NumMemtables int
	// BlockCacheSize is the size of the table block cache. Default
	// DefaultBlockCacheSize.
	BlockCacheSize int64
	// IndexCacheSize bounds memory used by table indexes. Default
	// DefaultIndexCacheSize.
	IndexCacheSize int64
	// ValueLogFileSize is the size of one value-log file. Default
	// DefaultValueLogFileSize; badger accepts 1 MiB to 2 GiB.
	ValueLogFileSize int64
	// GCInterval is how often value-log garbage collection runs in the
	// background. Default DefaultGCInterval; negative disables it.
	GCInterval time.Duration
	// Retention bounds the change log (see changelog.go). Zero fields take
	// DefaultChangeLogMaxEvents, DefaultChangeLogMaxBytes and
	// DefaultChangeLogMaxAge.
	Retention storage.Retention
	// Logger receives the store's logs and badger's own, at levels fitting
	// an operator: badger's errors and warnings as such, its routine info
	// messages at debug. Default slog.Default().
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.MemTableSize <= 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.NumMemtables <= 0 {
		o.NumMemtables = DefaultNumMemtables
	}
	if o.BlockCacheSize <= 0 {
		o.BlockCacheSize = DefaultBlockCacheSize
	}
	if o.IndexCacheSize <= 0 {
		o.IndexCacheSize = DefaultIndexCacheSize
	}
	if o.ValueLogFileSize <= 0 {
		o.ValueLogFileSize = DefaultValueLogFileSize
	}
	if o.GCInterval == 0 {
		o.GCInterval = DefaultGCInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Retention.MaxEvents <= 0 {
		o.Retention.MaxEvents = DefaultChangeLogMaxEvents
	}
	if o.Retention.MaxBytes <= 0 {
		o.Retention.MaxBytes = DefaultChangeLogMaxBytes
	}
	if o.Retention.MaxAge <= 0 {
		o.Retention.MaxAge = DefaultChangeLogMaxAge
	}
}

// badgerOptions translates o into badger's options for dir.
func (o *Options) badgerOptions(dir string) bdg.Options {
	bo := bdg.DefaultOptions(dir).
		WithSyncWrites(o.Sync).
		WithMemTableSize(o.MemTableSize).
		WithNumMemtables(o.NumMemtables).
		WithBlockCacheSize(o.BlockCacheSize).
		WithIndexCacheSize(o.IndexCacheSize).
		WithValueLogFileSize(o.ValueLogFileSize).
		// Records are small and the store is small: compression would cost
		// CPU on every flush for little space.
		WithCompression(options.None).
		// One writer (the committer) and no read-modify-write
		// transactions: conflict detection would only cost memory.
		WithDetectConflicts(false).
		// Two compactors is badger's minimum for a working LSM tree; its
		// default of four is meant for large machines.
		WithNumCompactors(2).
		WithNumGoroutines(2).
		// Badger's metrics are process-wide expvars; zkx reports its own.
		WithMetricsEnabled(false).
		WithLogger(badgerLogger{o.Logger})
	// Values up to this size live in the LSM tree and its write-ahead log;
	// larger ones go to the value log. Badger requires it to be at most
	// its largest transaction (15% of the memtable).
	bo = bo.WithValueThreshold(min(1<<20, 15*o.MemTableSize/100))
	return bo
}

// Store is a storage.Backend on a badger database in one directory.
//
// Concurrency: all methods are safe for concurrent use. Commits are
// serialized by one committer goroutine, which groups the commits waiting
// at that moment into one badger transaction and one sync; a Load reads a
// consistent snapshot and never blocks a Commit for long.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	db   *bdg.DB

	reqs chan *request // unbuffered: a successful send means accepted
	stop chan struct{} // closed by Close
	wg   sync.WaitGroup

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	// lifeMu keeps db open while a Load runs: Load holds it shared, Close
	// exclusively before closing db.
	lifeMu sync.RWMutex
	// applyMu makes the applier's writes, which may span several badger
	// transactions, atomic with respect to Load: the applier holds it while
	// writing, Load while taking its snapshot.
	applyMu sync.RWMutex

	// The write-ahead log (wal.go), appended by the committer.
	wal    *wal
	walSeq uint64 // last record appended

	logRecords    atomic.Uint64 // WAL records appended (Stats)
	loggedCommits atomic.Uint64 // commits in them

	// Logged requests waiting for the applier (apply.go).
	pmu          sync.Mutex
	pending      []*request
	pendingBytes int
	applyWake    chan struct{}
	flushReq     chan chan error
	applyStop    chan struct{}
	awg          sync.WaitGroup

	// Owned by the applier goroutine after Open.
	lastZxid int64
	evIndex  []evMeta // retained change-log blocks, oldest first
	evCount  int      // events in them
	evBytes  int64
	lowSpace bool // the applier is holding back for lack of disk space
}

var _ storage.Backend = (*Store)(nil)

// Open opens the zkx store in dir, creating dir (but not its parent) when
// it does not exist. It refuses, with an error naming dir and the cause, a
// directory it cannot read, one locked by another process (ErrLocked), a
// non-empty directory that is not a zkx store (ErrNotStore), a store of a
// newer format (ErrFutureFormat) and a corrupt one (ErrCorrupt). A batch
// that was being committed when the process stopped is completed or
// discarded as a whole.
func Open(dir string, opts Options) (*Store, error) {
	opts.setDefaults()
	if dir == "" {
		return nil, errors.New("badger: open: no data dir given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("badger: open data dir %s: %w", dir, err)
	}
	fresh, err := prepareDir(abs)
	if err != nil {
		return nil, err
	}
	if err := checkSpace(abs, opts.spaceReserve()); err != nil {
		return nil, fmt.Errorf("badger: open data dir %s: %w", abs, err)
	}
	if fresh {
		opts.Logger.Info("initialising new data dir", "dir", abs)
	}

	db, err := bdg.Open(opts.badgerOptions(abs))
	if err != nil {
		// Badger flocks the directory and reports a held lock only in its
		// message (its wrapping drops the errno); TestSecondOpenOfSameDirIsLocked
		// pins this against the badger version in go.mod.
		if errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("%w: %s (is another zkx running on it?): %v", ErrLocked, abs, err)
		}
		return nil, fmt.Errorf("badger: open data dir %s: %w", abs, err)
	}
	s := &Store{
		dir:  abs,
		opts: opts,
		log:  opts.Logger,
		db:   db,
		reqs: make(chan *request),
		stop: make(chan struct{}),

		applyWake: make(chan struct{}, 1),
		flushReq:  make(chan chan error),
		applyStop: make(chan struct{}),
	}
	if err := s.init(); err != nil {
		if cerr := db.Close(); cerr != nil {
			opts.Logger.Warn("closing badger after a failed open", "dir", abs, "err", cerr)
		}
		return nil, err
	}
	s.wg.Add(1)
	go s.committer()
	s.awg.Add(1)
	go s.applier()
	if opts.GCInterval > 0 {
		s.wg.Add(1)
		go s.gcLoop(opts.GCInterval)
	}
	s.log.Debug("badger store open", "dir", abs, "sync", opts.Sync, "last_zxid", s.lastZxid)
	return s, nil
}

// prepareDir makes sure dir exists and is either empty (fresh is true) or
// looks like a badger database. It never writes into a non-empty
// directory.
func prepareDir(dir string) (fresh bool, err error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		parent := filepath.Dir(dir)
		if _, perr := os.Stat(parent); perr != nil {
			return false, fmt.Errorf("badger: open data dir %s: parent directory %s: %w", dir, parent, perr)
		}
		if err := os.Mkdir(dir, 0o750); err != nil {
			return false, fmt.Errorf("badger: create data dir %s: %w", dir, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("badger: open data dir %s: %w", dir, err)
	case !fi.IsDir():
		return false, fmt.Errorf("badger: open data dir %s: not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("badger: open data dir %s: cannot read it: %w", dir, err)
	}
	manifest := false
	others := 0
	for _, e := range entries {
		switch e.Name() {
		case "MANIFEST":
			manifest = true
		case "LOCK":
		case "lost+found": // the root of a freshly formatted volume
		default:
			others++
		}
	}
	switch {
	case manifest:
		return false, nil
	case others == 0:
		return true, nil
	default:
		return false, fmt.Errorf("%w: %s holds %d entries but no badger MANIFEST (point storage.data_dir at an empty or zkx-created directory)",
			ErrNotStore, dir, others)
	}
}

// init checks the format marker (writing it into an empty database),
// reads the last zxid, replays the write-ahead log and indexes the change
// log.
func (s *Store) init() error {
	var (
		format    []byte
		hasRecord bool
	)
	err := s.db.View(func(txn *bdg.Txn) error {
		item, err := txn.Get(keyFormat)
		if errors.Is(err, bdg.ErrKeyNotFound) {
			it := txn.NewIterator(bdg.IteratorOptions{})
			defer it.Close()
			it.Rewind()
			hasRecord = it.Valid()
			return nil
		}
		if err != nil {
			return err
		}
		format, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("badger: open data dir %s: read format marker: %w", s.dir, err)
	}
	switch {
	case format == nil && hasRecord:
		return fmt.Errorf("%w: %s is a badger database without zkx's format marker %q", ErrNotStore, s.dir, keyFormat)
	case format == nil:
		if err := s.db.Update(func(txn *bdg.Txn) error {
			return txn.Set(keyFormat, bytesUint32(formatVersion))
		}); err != nil {
			return fmt.Errorf("badger: initialise data dir %s: %w", s.dir, err)
		}
		if err := s.db.Sync(); err != nil {
			return fmt.Errorf("badger: initialise data dir %s: sync: %w", s.dir, err)
		}
	case len(format) != 4:
		return fmt.Errorf("%w: %s: format marker %q is %d bytes, want 4", ErrCorrupt, s.dir, keyFormat, len(format))
	default:
		v := uint32(format[0])<<24 | uint32(format[1])<<16 | uint32(format[2])<<8 | uint32(format[3])
		if v > formatVersion {
			return fmt.Errorf("%w: %s has format %d, this zkx reads up to %d (upgrade zkx)", ErrFutureFormat, s.dir, v, formatVersion)
		}
		if v == 0 {
			return fmt.Errorf("%w: %s: format version 0", ErrCorrupt, s.dir)
		}
	}
	if err := s.db.View(func(txn *bdg.Txn) error {
		z, err := readLastZxid(txn)
		if err != nil {
			return fmt.Errorf("badger: open data dir %s: %w", s.dir, err)
		}
		s.lastZxid = z
		return nil
	}); err != nil {
		return err
	}
	if err := s.recoverWAL(); err != nil {
		return err
	}
	if err := s.loadEventIndex(); err != nil {
		return err
	}
	s.pruneEvents(time.Now())
	return nil
}

func bytesUint32(v uint32) []byte {
	return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// readLastZxid reads the last committed zxid, 0 when none was stored.
func readLastZxid(txn *bdg.Txn) (int64, error) {
	item, err := txn.Get(keyLastZxid)
	if errors.Is(err, bdg.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read key %q: %w", keyLastZxid, err)
	}
	var z int64
	err = item.Value(func(v []byte) error {
		var derr error
		z, derr = decodeInt64(v)
		return derr
	})
	if err != nil {
		return 0, fmt.Errorf("%w: key %q: %w", ErrCorrupt, keyLastZxid, err)
	}
	return z, nil
}

// Load streams every stored node to fn from one consistent snapshot, then
// returns the sessions and last zxid of the same snapshot. Each node's
// record is decoded straight from badger's buffer into a fresh Node, so
// the raw values are never held a second time. A record that cannot be
// decoded stops Load with an ErrCorrupt error naming its key.
func (s *Store) Load(ctx context.Context, fn func(storage.Node) error) (storage.State, error) {
	if err := ctx.Err(); err != nil {
		return storage.State{}, err
	}
	// Everything committed so far must be in badger before the snapshot.
	if !s.closed.Load() {
		if err := s.flush(); err != nil {
			return storage.State{}, fmt.Errorf("badger: load %s: %w", s.dir, err)
		}
	}
	s.lifeMu.RLock()
	defer s.lifeMu.RUnlock()
	if s.closed.Load() {
		return storage.State{}, fmt.Errorf("badger: load: %w", storage.ErrClosed)
	}
	s.applyMu.RLock()
	txn := s.db.NewTransaction(false)
	s.applyMu.RUnlock()
	defer txn.Discard()

	it := txn.NewIterator(bdg.IteratorOptions{Prefix: []byte(nodePrefix)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return storage.State{}, err
		}
		item := it.Item()
		key := item.Key()
		n := storage.Node{Path: string(key[len(nodePrefix):])}
		if err := item.Value(func(v []byte) error { return decodeNode(v, &n) }); err != nil {
			return storage.State{}, s.corrupt(key, err)
		}
		if err := fn(n); err != nil {
			return storage.State{}, err
		}
	}
	it.Close()

	var st storage.State
	sit := txn.NewIterator(bdg.IteratorOptions{Prefix: []byte(sessionPrefix)})
	defer sit.Close()
	for sit.Rewind(); sit.Valid(); sit.Next() {
		item := sit.Item()
		key := item.Key()
		if len(key) != len(sessionPrefix)+8 {
			return storage.State{}, s.corrupt(key, fmt.Errorf("%w: session key of %d bytes", errCorrupt, len(key)))
		}
		ss := storage.Session{ID: int64(beUint64(key[len(sessionPrefix):]))}
		if err := item.Value(func(v []byte) error { return decodeSession(v, &ss) }); err != nil {
			return storage.State{}, s.corrupt(key, err)
		}
		st.Sessions = append(st.Sessions, ss)
	}
	z, err := readLastZxid(txn)
	if err != nil {
		return storage.State{}, fmt.Errorf("badger: load %s: %w", s.dir, err)
	}
	st.LastZxid = z
	return st, nil
}

// corrupt wraps a record error (a decoding error or badger's own) with the
// key and the directory.
func (s *Store) corrupt(key []byte, err error) error {
	if errors.Is(err, errCorrupt) {
		return fmt.Errorf("%w: %s: key %q: %w", ErrCorrupt, s.dir, key, err)
	}
	return fmt.Errorf("badger: load %s: key %q: %w", s.dir, key, err)
}

func beUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// Close stops the committer (commits already accepted finish first) and
// the garbage collector, waits for running Loads, and closes the database.
// Later Commits and Loads return storage.ErrClosed. Close is idempotent;
// calls after the first return nil. On a filesystem too full for badger to
// write out its memtable, Close returns an error and leaves the directory
// as a crash would (nothing committed is lost; the next Open replays the
// logs), still locked until the process exits.
func (s *Store) Close() error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		s.closed.Store(true)
		close(s.stop)
		s.wg.Wait() // the committer has logged everything it accepted
		close(s.applyStop)
		s.awg.Wait() // and the applier has written it into badger
		s.lifeMu.Lock()
		defer s.lifeMu.Unlock()
		if s.wal != nil {
			s.wal.close()
		}
		// Badger's Close writes its memtable to a new table through an
		// mmapped file, which kills the process with SIGBUS on a full
		// filesystem (see spaceReserve). Without room for that, badger is
		// left as a crash would leave it: the memtable is in badger's own
		// log and unapplied writes are in the write-ahead log, and Open
		// replays both. Its directory lock stays held until the process
		// exits.
		if err := checkSpace(s.dir, s.opts.closeReserve()); err != nil {
			s.log.Error("badger: disk almost full; not flushing badger at close, the next start replays its logs instead", "dir", s.dir, "err", err)
			s.closeErr = fmt.Errorf("badger: close %s: %w; left unflushed, the next open replays the logs", s.dir, err)
			return
		}
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("badger: close %s: %w", s.dir, err)
		}
	})
	if !first {
		return nil
	}
	return s.closeErr
}

// gcLoop runs value-log garbage collection every interval until Close.
// Each pass rewrites files as long as badger finds one worth rewriting.
func (s *Store) gcLoop(interval time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		rewrites := 0
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			// A rewrite fills a new value-log file through mmap: only
			// with the same room the applier needs (see spaceReserve).
			if checkSpace(s.dir, s.opts.spaceReserve()) != nil {
				break
			}
			err := s.db.RunValueLogGC(gcDiscardRatio)
			if err != nil {
				if !errors.Is(err, bdg.ErrNoRewrite) && !errors.Is(err, bdg.ErrRejected) {
					s.log.Warn("value-log garbage collection failed", "dir", s.dir, "err", err)
				}
				break
			}
			rewrites++
		}
		if rewrites > 0 {
			s.log.Debug("value-log garbage collected", "dir", s.dir, "files_rewritten", rewrites)
		}
	}
}
