package badger

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkx-dev/zkx/pkg/storage"
)

func writeRecords(t *testing.T, dir string, n int) {
	t.Helper()
	w, err := createWAL(dir, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := w.append(uint64(i), encodeGroup(int64(i), []op{{key: []byte("n//k"), val: []byte{byte(i)}}})); err != nil {
			t.Fatal(err)
		}
	}
	w.close()
}

func readSeqs(dir string) ([]uint64, error) {
	var seqs []uint64
	_, err := readWAL(dir, func(seq uint64, payload []byte) error {
		if _, _, err := decodeGroup(payload); err != nil {
			return err
		}
		seqs = append(seqs, seq)
		return nil
	})
	return seqs, err
}

func TestWALTornTailIsDropped(t *testing.T) {
	dir := t.TempDir()
	writeRecords(t, dir, 3)
	names, _ := walSegments(dir)
	f, err := os.OpenFile(names[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Damage the last record, as a crash in the middle of its write would.
	rec := int64(walHeaderSize + len(encodeGroup(3, []op{{key: []byte("n//k"), val: []byte{3}}})))
	f.WriteAt([]byte{0xff, 0xff}, 2*rec+walHeaderSize+2)
	f.Close()
	seqs, err := readSeqs(dir)
	if err != nil || len(seqs) != 2 || seqs[1] != 2 {
		t.Errorf("after a torn tail read %v, %v; want records 1 and 2", seqs, err)
	}
}

func TestWALDamageBeforeTheTailIsCorruption(t *testing.T) {
	dir := t.TempDir()
	writeRecords(t, dir, 2)
	// A second, newer segment makes the first one's damage not a tail.
	w, err := createWAL(dir, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	w.append(3, encodeGroup(3, nil))
	w.close()
	names, _ := walSegments(dir)
	f, _ := os.OpenFile(names[0], os.O_RDWR, 0)
	f.WriteAt([]byte{0xff}, walHeaderSize+1)
	f.Close()
	if _, err := readSeqs(dir); !errors.Is(err, ErrCorrupt) {
		t.Errorf("damage in an older segment: %v, want ErrCorrupt", err)
	}
}

// TestWALReplayedAtOpen: records that reached the log but not badger (the
// applier had not run when the process died) are applied at the next
// Open. The crash is simulated by writing a record straight to the log of
// a closed store.
func TestWALReplayedAtOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpen(t, dir, Options{Sync: true})
	if err := s.Commit(context.Background(), storage.Batch{Zxid: 5, Puts: []storage.Node{{Path: "/a", Data: []byte("1")}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// The next record of the log, committed but never applied.
	b := storage.Batch{Zxid: 6, Puts: []storage.Node{{Path: "/b", Data: []byte("2")}}, Deletes: []string{"/a"}}
	names, _ := walSegments(filepath.Join(dir, walDirName))
	w := &wal{dir: filepath.Join(dir, walDirName), sync: true}
	f, err := os.OpenFile(names[len(names)-1], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	w.f, w.size = f, st.Size()
	if err := w.append(2, encodeGroup(6, encodeBatch(&b))); err != nil {
		t.Fatal(err)
	}
	w.close()

	s = mustOpen(t, dir, Options{Sync: true})
	defer s.Close()
	nodes, state := loadAll(t, s)
	if _, ok := nodes["/a"]; ok || string(nodes["/b"].Data) != "2" || state.LastZxid != 6 {
		t.Errorf("after replay: nodes %v, last zxid %d; want only /b and zxid 6", nodes, state.LastZxid)
	}
}
