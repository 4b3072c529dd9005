package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// smallOptions make badger's transaction limit about 10 KB (15% of a
// 64 KiB memtable), so a batch of a few hundred nodes needs several
// transactions to apply.
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

func TestOversizedBatchIsApplied(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpen(t, dir, smallOptions(nil))
	b := bigBatch(7, 600)
	// The batch must not fit one badger transaction, or this tests nothing.
	txn := s.db.NewTransaction(true)
	tooBig := false
	for _, o := range encodeBatch(&b) {
		if err := setOp(txn, &o); errors.Is(err, bdg.ErrTxnTooBig) {
			tooBig = true
			break
		}
	}
	txn.Discard()
	if !tooBig {
		t.Fatal("a 600-node batch fits one transaction; the test needs a bigger one")
	}
	if err := s.Commit(context.Background(), b); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	nodes, st := loadAll(t, s) // waits for the applier
	if len(nodes) != 600 || st.LastZxid != 7 {
		t.Errorf("loaded %d nodes, LastZxid %d; want 600, 7", len(nodes), st.LastZxid)
	}
	s.Close()
	s = mustOpen(t, dir, smallOptions(nil))
	defer s.Close()
	if nodes, st := loadAll(t, s); len(nodes) != 600 || st.LastZxid != 7 {
		t.Errorf("after reopen %d nodes, LastZxid %d; want 600, 7", len(nodes), st.LastZxid)
	}
}

// Loads running while oversized batches commit see each batch whole.
func TestOversizedBatchAtomicUnderConcurrentLoad(t *testing.T) {
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
