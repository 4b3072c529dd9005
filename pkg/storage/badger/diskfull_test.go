package badger_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// TestCloseOnFullDiskLosesNothing closes a store whose filesystem filled
// up after its writes reached badger. Badger's own Close would write the
// memtable out through mmap and die of SIGBUS; the store instead leaves
// badger as a crash would, and a copy of the data directory opened where
// there is room holds every committed write. It mounts a small tmpfs, so
// it needs root (as in CI).
func TestCloseOnFullDiskLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); this test needs root", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })

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

	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(filler) })
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(st.Bavail)*int64(st.Bsize)); err != nil {
		t.Fatalf("fill the tmpfs: %v", err)
	}
	f.Close()

	err = s.Close()
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
