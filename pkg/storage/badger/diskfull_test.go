package badger_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/internal/testfs"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// TestCloseOnFullDiskLosesNothing closes a store whose filesystem filled
// up after its writes reached badger. Badger's own Close would write the
// memtable out through mmap and die of SIGBUS; the store instead leaves
// badger as a crash would, and a copy of the data directory opened where
// there is room holds every committed write. It needs root to mount a
// tmpfs (see internal/testfs).
func TestCloseOnFullDiskLosesNothing(t *testing.T) {
	mnt := testfs.Tmpfs(t, "64m")

	// Small files, so the reserve the store keeps free fits the tmpfs.
	opts := quietOptions(true)
	opts.MemTableSize, opts.ValueLogFileSize = 1<<20, 1<<20
	logs := &testLogger{}
	opts.Logger = logs.slog()
	dir := filepath.Join(mnt, "data")
	s := openStore(t, dir, opts)
	var want []string
	for i := 1; i <= 20; i++ {
		p := fmt.Sprintf("/n%02d", i)
		commit(t, s, storage.Batch{Zxid: int64(i), Puts: []storage.Node{{Path: p, Data: []byte(p), ACL: znode.OpenACLUnsafe}}})
		want = append(want, p)
	}
	// Load waits until every commit is in badger: its memtable now holds
	// the writes, so a Close that flushed it would need new space.
	if got := loadPaths(t, s); !slices.Equal(got, want) {
		t.Fatalf("before the disk filled: %v, want %v", got, want)
	}

	testfs.Fill(t, mnt)

	err := s.Close()
	if err == nil || !strings.Contains(err.Error(), "left unflushed") {
		t.Fatalf("Close on a full disk = %v, want an error saying badger was left unflushed", err)
	}
	if !strings.Contains(logs.String(), "disk almost full") {
		t.Errorf("log does not tell the operator why badger was not flushed:\n%s", logs.String())
	}

	// This process still holds the directory lock, as a zkx that is
	// exiting would; a copy opened elsewhere is what the next start sees.
	cp := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", dir, cp).CombinedOutput(); err != nil {
		t.Fatalf("copy the data dir: %v: %s", err, out)
	}
	s2 := openStore(t, cp, quietOptions(true))
	defer s2.Close()
	if got := loadPaths(t, s2); !slices.Equal(got, want) {
		t.Errorf("after the unflushed close: %v, want %v", got, want)
	}
}
