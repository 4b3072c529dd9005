// Package testfs gives tests a real full disk: a small tmpfs mounted for
// the test and filled to its last block. Mounting needs root, as in CI;
// elsewhere, and under -short, the calling test is skipped with the reason.
package testfs

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// Tmpfs mounts a tmpfs of the given size (mount's syntax: "64m") on a
// fresh directory and returns it. It is unmounted when the test ends.
func Tmpfs(t testing.TB, size string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); this test needs root", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	return mnt
}

// Fill takes every free block of the filesystem of dir with one file and
// returns a function that frees them again. The space is also freed when
// the test ends, before the cleanups registered earlier run (a store
// opened before Fill is then closed on a disk with room, as a real
// operator would have it after freeing space).
func Fill(t testing.TB, dir string) (free func()) {
	t.Helper()
	filler := filepath.Join(dir, "testfs-filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	free = func() { os.Remove(filler) }
	t.Cleanup(free)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		f.Close()
		t.Fatal(err)
	}
	err = syscall.Fallocate(int(f.Fd()), 0, 0, int64(st.Bavail)*int64(st.Bsize))
	f.Close()
	if err != nil {
		t.Fatalf("fill %s: %v", dir, err)
	}
	return free
}
