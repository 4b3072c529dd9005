package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// smallOptions make badger's transaction limit about 10 KB (15% of a
// 64 KiB memtable), so a batch of a few hundred nodes must be staged.
func smallOptions(logs *bytes.Buffer) Options {
	var l *slog.Logger
	if logs != nil {
		l = slog.New(slog.NewTextHandler(logs, nil))
	} else {
		l = slog.New(slog.DiscardHandler)
	}
	return Options{Sync: true, MemTableSize: 64 << 10, Logger: l}
}

func bigBatch(zxid int64, n int) storage.Batch {
	b := storage.Batch{Zxid: zxid}
	for i := range n {
		b.Puts = append(b.Puts, storage.Node{
			Path: fmt.Sprintf("/big%d/n%04d", zxid, i), Data: []byte("payload"), ACL: znode.OpenACLUnsafe, Czxid: zxid,
		})
	}
	return b
}

func mustOpen(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func loadAll(t *testing.T, s *Store) (map[string]storage.Node, storage.State) {
	t.Helper()
	nodes := map[string]storage.Node{}
	st, err := s.Load(context.Background(), func(n storage.Node) error { nodes[n.Path] = n; return nil })
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return nodes, st
}

func stagingKeys(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.db.View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.IteratorOptions{Prefix: []byte(stagePrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOversizedBatchIsStagedAndApplied(t *testing.T) {
	var logs bytes.Buffer
	s := mustOpen(t, filepath.Join(t.TempDir(), "data"), smallOptions(&logs))
	defer s.Close()
	b := bigBatch(7, 600)
	// The one transaction would be too big: check the test exercises
	// what it means to.
	if err := s.writeTxn([]*request{{ops: encodeBatch(&b), zxid: b.Zxid}}); !errors.Is(err, bdg.ErrTxnTooBig) {
		t.Fatalf("a 600-node batch fits one transaction (%v); the test needs a bigger one", err)
	}
	if err := s.Commit(context.Background(), b); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	nodes, st := loadAll(t, s) // waits for the applier
	if !strings.Contains(logs.String(), "staging a batch") {
		t.Errorf("log does not show the batch was staged:\n%s", logs.String())
	}
	if len(nodes) != 600 || st.LastZxid != 7 {
		t.Errorf("loaded %d nodes, LastZxid %d; want 600, 7", len(nodes), st.LastZxid)
	}
	if n := stagingKeys(t, s); n != 0 {
		t.Errorf("%d staging keys left after the commit", n)
	}
}

func TestStagedBatchCompletedAfterCrash(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpen(t, dir, smallOptions(nil))
	commit := func(b storage.Batch) {
		t.Helper()
		if err := s.Commit(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	commit(storage.Batch{Zxid: 1, Puts: []storage.Node{{Path: "/old", Data: []byte("gone soon")}}})
	crash := errors.New("simulated crash after the commit point")
	s.testHookStaged = func() error { return crash }
	b := bigBatch(9, 400)
	b.Deletes = []string{"/old"}
	// The commit is durable once it is in the write-ahead log; the crash
	// hits the applier that writes it into badger afterwards.
	if err := s.Commit(context.Background(), b); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if _, err := s.Load(context.Background(), func(storage.Node) error { return nil }); !errors.Is(err, crash) {
		t.Fatalf("Load after the failed apply: %v, want the simulated crash", err)
	}
	s.Close() // its final apply meets the crash again and leaves the log in place

	s = mustOpen(t, dir, smallOptions(nil))
	defer s.Close()
	nodes, st := loadAll(t, s)
	if len(nodes) != 400 || st.LastZxid != 9 {
		t.Errorf("after restart: %d nodes, LastZxid %d; want 400, 9", len(nodes), st.LastZxid)
	}
	if _, ok := nodes["/old"]; ok {
		t.Error("/old survived; the staged delete was not applied")
	}
	if n := stagingKeys(t, s); n != 0 {
		t.Errorf("%d staging keys left after recovery", n)
	}
}

func TestStagedOpsWithoutMarkerAreDiscarded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpen(t, dir, smallOptions(nil))
	// A crash before the commit point leaves staged operations only.
	o := op{key: []byte("n//half"), val: appendNode(nil, &storage.Node{Path: "/half"})}
	if err := s.db.Update(func(txn *bdg.Txn) error {
		return txn.Set(stageOpKey(0), appendStagedOp(nil, &o))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = mustOpen(t, dir, smallOptions(nil))
	defer s.Close()
	if nodes, _ := loadAll(t, s); len(nodes) != 0 {
		t.Errorf("uncommitted staged batch applied: %v", nodes)
	}
	if n := stagingKeys(t, s); n != 0 {
		t.Errorf("%d staging keys left", n)
	}
}

func TestStagedMarkerWithMissingOpsIsCorrupt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpen(t, dir, smallOptions(nil))
	if err := s.db.Update(func(txn *bdg.Txn) error {
		return txn.Set(keyPending, appendPending(nil, 5, 3))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(dir, smallOptions(nil))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "0 of its 3 operations") {
		t.Fatalf("Open: %v, want ErrCorrupt about missing staged operations", err)
	}
}

// Loads running while oversized batches commit see each batch whole.
func TestStagedBatchAtomicUnderConcurrentLoad(t *testing.T) {
	const (
		batches  = 6
		perBatch = 300
	)
	s := mustOpen(t, filepath.Join(t.TempDir(), "data"), smallOptions(nil))
	defer s.Close()
	done := make(chan struct{})
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			n := 0
			st, err := s.Load(context.Background(), func(storage.Node) error { n++; return nil })
			if err == nil && n != int(st.LastZxid)*perBatch {
				err = fmt.Errorf("Load saw %d nodes with LastZxid %d", n, st.LastZxid)
			}
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	for i := 1; i <= batches; i++ {
		if err := s.Commit(context.Background(), bigBatch(int64(i), perBatch)); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
}

// Concurrent commits whose group is too big for one transaction are
// written one by one, each still atomic and each with its own result.
func TestOversizedGroupFallsBackToSingleBatches(t *testing.T) {
	const writers = 12
	s := mustOpen(t, filepath.Join(t.TempDir(), "data"), smallOptions(nil))
	defer s.Close()
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = s.Commit(context.Background(), bigBatch(int64(w+1), 30))
		}()
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	nodes, st := loadAll(t, s)
	if len(nodes) != writers*30 || st.LastZxid != writers {
		t.Errorf("loaded %d nodes, LastZxid %d; want %d, %d", len(nodes), st.LastZxid, writers*30, writers)
	}
}
