package badger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

func benchNode(i int64) storage.Node {
	return storage.Node{
		Path: fmt.Sprintf("/bench/n%010d", i), Data: []byte("a typical small znode value"), ACL: znode.OpenACLUnsafe,
		Czxid: i, Mzxid: i, Pzxid: i, Ctime: 1700000000000, Mtime: 1700000000000,
	}
}

// BenchmarkCommitOneNode commits one-node batches one after another: with
// sync each pays a full sync, without it a write to the page cache.
func BenchmarkCommitOneNode(b *testing.B) {
	for _, sync := range []bool{true, false} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) {
			s := openStore(b, filepath.Join(b.TempDir(), "data"), quietOptions(sync))
			defer s.Close()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range int64(b.N) {
				if err := s.Commit(ctx, storage.Batch{Zxid: i + 1, Puts: []storage.Node{benchNode(i)}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCommitConcurrent16 runs 16 committers with sync on: group
// commit shares one sync among the commits waiting together, so the time
// per commit is far below the sequential sync=true figure.
func BenchmarkCommitConcurrent16(b *testing.B) {
	const committers = 16
	s := openStore(b, filepath.Join(b.TempDir(), "data"), quietOptions(true))
	defer s.Close()
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for range committers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := s.Commit(ctx, storage.Batch{Zxid: i, Puts: []storage.Node{benchNode(i)}}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
