package badger_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/storage/badger"
	"github.com/zkx-dev/zkx/pkg/storage/storagetest"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// testLogger collects log output so tests can check what an operator
// would see.
type testLogger struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *testLogger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *testLogger) slog() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func quietOptions(sync bool) badger.Options {
	return badger.Options{Sync: sync, Logger: slog.New(slog.DiscardHandler)}
}

func openStore(t testing.TB, dir string, opts badger.Options) *badger.Store {
	t.Helper()
	s, err := badger.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, sync := range []bool{true, false} {
		name := "sync"
		if !sync {
			name = "nosync"
		}
		t.Run(name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T, dir string) storage.Backend {
				return openStore(t, filepath.Join(dir, "data"), quietOptions(sync))
			}, storagetest.Options{Durable: true})
		})
	}
}

// A small memtable makes badger's transaction limit small (15% of it), so
// ordinary batches exercise the grouped and staged paths.
func TestConformanceSmallTransactions(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, dir string) storage.Backend {
		opts := quietOptions(true)
		opts.MemTableSize = 64 << 10
		return openStore(t, filepath.Join(dir, "data"), opts)
	}, storagetest.Options{Durable: true})
}

func TestOpenCreatesMissingDirAndLogsIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var logs testLogger
	opts := quietOptions(true)
	opts.Logger = logs.slog()
	s := openStore(t, dir, opts)
	defer s.Close()
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("data dir not created: %v", err)
	}
	if !strings.Contains(logs.String(), "initialising new data dir") {
		t.Errorf("log %q does not mention initialising the data dir", logs.String())
	}
	if strings.Contains(logs.String(), "level=DEBUG") {
		t.Errorf("badger's routine messages logged above debug:\n%s", logs.String())
	}
}

func TestOpenBadDirectories(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T) string // returns the data dir to open
		wantIs  error
		wantMsg []string
	}{
		{
			name: "missing parent",
			setup: func(t *testing.T) string {
				return filepath.Join(t.TempDir(), "no", "such", "data")
			},
			wantMsg: []string{"parent directory", "no such file"},
		},
		{
			name: "a file, not a directory",
			setup: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "data")
				writeFile(t, p, "x")
				return p
			},
			wantMsg: []string{"not a directory"},
		},
		{
			name: "non-empty directory that is not a store",
			setup: func(t *testing.T) string {
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, "notes.txt"), "mine")
				return dir
			},
			wantIs:  badger.ErrNotStore,
			wantMsg: []string{"no badger MANIFEST"},
		},
		{
			name: "badger database of another program",
			setup: func(t *testing.T) string {
				dir := t.TempDir()
				db, err := bdg.Open(bdg.DefaultOptions(dir).WithLogger(nil))
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Update(func(txn *bdg.Txn) error { return txn.Set([]byte("user/1"), []byte("x")) }); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			wantIs:  badger.ErrNotStore,
			wantMsg: []string{"format marker"},
		},
		{
			name: "format from the future",
			setup: func(t *testing.T) string {
				dir := filepath.Join(t.TempDir(), "data")
				openStore(t, dir, quietOptions(true)).Close()
				rawSet(t, dir, "m/format", []byte{0, 0, 0, 99})
				return dir
			},
			wantIs:  badger.ErrFutureFormat,
			wantMsg: []string{"format 99", "upgrade zkx"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t)
			s, err := badger.Open(dir, quietOptions(true))
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded, want an error", dir)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v, want errors.Is %v", err, tc.wantIs)
			}
			for _, m := range append([]string{dir}, tc.wantMsg...) {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestOpenUnreadableDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any directory")
	}
	dir := filepath.Join(t.TempDir(), "data")
	openStore(t, dir, quietOptions(true)).Close()
	if err := os.Chmod(dir, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o750) })
	s, err := badger.Open(dir, quietOptions(true))
	if err == nil {
		s.Close()
		t.Fatal("Open of an unreadable dir succeeded")
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("error %q should name the dir and the cause", err)
	}
}

func TestSecondOpenOfSameDirIsLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first := openStore(t, dir, quietOptions(true))
	defer first.Close()
	commit(t, first, storage.Batch{Zxid: 1, Puts: []storage.Node{{Path: "/a", Data: []byte("x")}}})

	second, err := badger.Open(dir, quietOptions(true))
	if err == nil {
		second.Close()
		t.Fatal("second Open of a dir in use succeeded")
	}
	if !errors.Is(err, badger.ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Open: %v, want ErrLocked naming %s", err, dir)
	}
	// The first store is unharmed and, once closed, the dir opens again.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again := openStore(t, dir, quietOptions(true))
	defer again.Close()
	if nodes := loadPaths(t, again); len(nodes) != 1 || nodes[0] != "/a" {
		t.Errorf("after reopen loaded %v, want [/a]", nodes)
	}
}

func TestEmptyDirAndLostFoundAreNew(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dir, quietOptions(true))
	defer s.Close()
	if paths := loadPaths(t, s); len(paths) != 0 {
		t.Errorf("new store loaded %v", paths)
	}
}

func TestCorruptRecordNamesKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		val  []byte
		want string
	}{
		{"truncated node", "n//bad", []byte{1, 0, 0, 0}, "truncated"},
		{"unknown node record version", "n//bad", []byte{9}, "node record version 9"},
		{"trailing bytes", "n//bad", append(validNodeRecord(t), 0xff), "trailing"},
		{"null data with bytes", "n//bad", nullWithData(t), "null data"},
		{"short session key", "s/\x01", []byte{1, 0, 0, 0, 1, 0}, "session key"},
		{"bad session record", "s/\x00\x00\x00\x00\x00\x00\x00\x01", []byte{1, 0}, "truncated"},
		{"short last zxid", "m/lastzxid", []byte{1}, "lastzxid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			openStore(t, dir, quietOptions(true)).Close()
			rawSet(t, dir, tc.key, tc.val)
			s, err := badger.Open(dir, quietOptions(true))
			if err == nil {
				defer s.Close()
				_, err = s.Load(context.Background(), func(storage.Node) error { return nil })
			}
			if !errors.Is(err, badger.ErrCorrupt) {
				t.Fatalf("error %v, want ErrCorrupt", err)
			}
			for _, m := range []string{dir, tc.want, fmt.Sprintf("key %q", tc.key)} {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestCloseStopsBackgroundWork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	opts := quietOptions(true)
	opts.GCInterval = 1 // GC passes as fast as the ticker allows
	s := openStore(t, dir, opts)
	commit(t, s, storage.Batch{Zxid: 1, Puts: []storage.Node{{Path: "/a"}}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close released the directory: it can be opened again at once.
	openStore(t, dir, quietOptions(true)).Close()
}

func TestLargeValuesSurviveReopen(t *testing.T) {
	// Values over the 1 MiB threshold go to badger's value log.
	dir := filepath.Join(t.TempDir(), "data")
	s := openStore(t, dir, quietOptions(true))
	big := bytes.Repeat([]byte("z"), 1<<20+512)
	commit(t, s, storage.Batch{Zxid: 5, Puts: []storage.Node{{Path: "/big", Data: big, ACL: znode.OpenACLUnsafe}}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, quietOptions(true))
	defer s.Close()
	var got []byte
	if _, err := s.Load(context.Background(), func(n storage.Node) error { got = n.Data; return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Errorf("big value came back as %d bytes, want %d", len(got), len(big))
	}
}

func commit(t testing.TB, s storage.Backend, b storage.Batch) {
	t.Helper()
	if err := s.Commit(context.Background(), b); err != nil {
		t.Fatalf("Commit(zxid %d): %v", b.Zxid, err)
	}
}

func loadPaths(t *testing.T, s storage.Backend) []string {
	t.Helper()
	var out []string
	if _, err := s.Load(context.Background(), func(n storage.Node) error { out = append(out, n.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rawSet writes one key straight into the badger database in dir, as a
// damaged or foreign store would have it.
func rawSet(t *testing.T, dir, key string, val []byte) {
	t.Helper()
	db, err := bdg.Open(bdg.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *bdg.Txn) error { return txn.Set([]byte(key), val) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// validNodeRecord returns the stored record of a small node, read back
// from a real store.
func validNodeRecord(t *testing.T) []byte {
	t.Helper()
	return rawRecord(t, storage.Node{Path: "/ok", Data: []byte("d"), ACL: znode.OpenACLUnsafe})
}

func nullWithData(t *testing.T) []byte {
	t.Helper()
	rec := rawRecord(t, storage.Node{Path: "/ok", Data: []byte("d")})
	rec[1] |= 1 // the null-data flag
	return rec
}

func rawRecord(t *testing.T, n storage.Node) []byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rec")
	s := openStore(t, dir, quietOptions(true))
	commit(t, s, storage.Batch{Zxid: 1, Puts: []storage.Node{n}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bdg.Open(bdg.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rec []byte
	err = db.View(func(txn *bdg.Txn) error {
		item, err := txn.Get([]byte("n/" + n.Path))
		if err != nil {
			return err
		}
		rec, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestCloseReleasesGoroutines(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// Warm up once: badger starts a few process-wide goroutines on first
	// use that are not the store's.
	openStore(t, dir, quietOptions(true)).Close()
	before := runtime.NumGoroutine()
	opts := quietOptions(true)
	opts.GCInterval = time.Millisecond // the GC loop is running when Close comes
	s := openStore(t, dir, opts)
	commit(t, s, storage.Batch{Zxid: 1, Puts: []storage.Node{{Path: "/a"}}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestStatsCountRecordsAndSyncs checks the counters mntr reports: commits
// and the log records holding them, and one sync per record only when
// syncing is on.
func TestStatsCountRecordsAndSyncs(t *testing.T) {
	for _, sync := range []bool{true, false} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			s := openStore(t, filepath.Join(t.TempDir(), "data"), quietOptions(sync))
			defer s.Close()
			for z := int64(1); z <= 10; z++ {
				commit(t, s, storage.Batch{Zxid: z, Puts: []storage.Node{{Path: fmt.Sprintf("/n%d", z), ACL: znode.OpenACLUnsafe}}})
			}
			st := s.Stats()
			if st.Commits != 10 || st.LogRecords < 1 || st.LogRecords > 10 {
				t.Errorf("commits %d in %d records, want 10 in 1 to 10", st.Commits, st.LogRecords)
			}
			wantSyncs := st.LogRecords
			if !sync {
				wantSyncs = 0
			}
			if st.Syncs != wantSyncs {
				t.Errorf("%d syncs, want %d", st.Syncs, wantSyncs)
			}
			if sync && (st.SyncMin <= 0 || st.SyncMax < st.SyncMin || st.SyncTotal < st.SyncMax) {
				t.Errorf("sync times min %v max %v total %v", st.SyncMin, st.SyncMax, st.SyncTotal)
			}
		})
	}
}
