package badger

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// txnEvents is one transaction's batch with n events at zxid.
func txnEvents(zxid int64, n int, at time.Time) storage.Batch {
	b := storage.Batch{Zxid: zxid}
	for i := 0; i < n; i++ {
		b.Events = append(b.Events, znode.Event{
			Type: znode.EventNodeDataChanged, Path: fmt.Sprintf("/n%d/%d", zxid, i), Zxid: zxid,
			Time: at.UnixMilli(), Version: int32(i), Data: []byte("d"), ACL: znode.OpenACLUnsafe,
		})
	}
	return b
}

// readLog reads the log after a barrier: an empty commit, which the single
// committer handles only once it has pruned after the previous group.
func readLog(t *testing.T, s *Store, after int64) ([]string, int64) {
	t.Helper()
	if err := s.Commit(context.Background(), storage.Batch{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	h, err := s.Events(context.Background(), after, func(ev znode.Event) bool {
		got = append(got, fmt.Sprintf("%d %s", ev.Zxid, ev.Path))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, h
}

func TestChangeLogDurableAndOrdered(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{Sync: true})
	ctx := context.Background()
	now := time.Now()
	b := txnEvents(10, 2, now)
	b.Events[0].Data = nil // null data stays null
	b.Events[1].Data = []byte{}
	b.Events[1].Type = znode.EventNodeCreated
	for _, batch := range []storage.Batch{b, txnEvents(11, 1, now), txnEvents(15, 3, now)} {
		if err := s.Commit(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = mustOpen(t, dir, Options{Sync: true})
	got, horizon := readLog(t, s, 0)
	want := []string{"10 /n10/0", "10 /n10/1", "11 /n11/0", "15 /n15/0", "15 /n15/1", "15 /n15/2"}
	if !slices.Equal(got, want) || horizon != 0 {
		t.Fatalf("after reopen: %v horizon %d, want %v horizon 0", got, horizon, want)
	}
	if got, _ := readLog(t, s, 11); !slices.Equal(got, want[3:]) {
		t.Errorf("Events(after 11) = %v, want %v", got, want[3:])
	}
	var first []znode.Event
	s.Events(ctx, 0, func(ev znode.Event) bool { first = append(first, ev); return len(first) < 2 })
	if len(first) != 2 || first[0].Data != nil || first[1].Data == nil || first[1].Type != znode.EventNodeCreated ||
		first[1].Time != now.UnixMilli() || first[1].Version != 1 || len(first[1].ACL) != 1 {
		t.Errorf("decoded events %+v: null/empty data, type, time, version or ACL lost", first)
	}
}

func TestChangeLogRetentionDropsWholeTransactions(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{Retention: storage.Retention{MaxEvents: 4}})
	ctx := context.Background()
	now := time.Now()
	for z := int64(1); z <= 5; z++ {
		if err := s.Commit(ctx, txnEvents(z, 2, now)); err != nil {
			t.Fatal(err)
		}
	}
	got, horizon := readLog(t, s, 0)
	want := []string{"4 /n4/0", "4 /n4/1", "5 /n5/0", "5 /n5/1"}
	if !slices.Equal(got, want) || horizon != 3 {
		t.Fatalf("retained %v horizon %d, want %v horizon 3", got, horizon, want)
	}
	s.Close()
	s = mustOpen(t, dir, Options{Retention: storage.Retention{MaxEvents: 4}})
	if got, h := readLog(t, s, 3); !slices.Equal(got, want) || h != 3 {
		t.Errorf("after reopen %v horizon %d", got, h)
	}
}

func TestChangeLogRetentionByAgeAndBytes(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{Retention: storage.Retention{MaxAge: time.Hour, MaxBytes: 1 << 20}})
	ctx := context.Background()
	s.Commit(ctx, txnEvents(1, 1, time.Now().Add(-2*time.Hour)))
	s.Commit(ctx, txnEvents(2, 1, time.Now()))
	if got, h := readLog(t, s, 0); !slices.Equal(got, []string{"2 /n2/0"}) || h != 1 {
		t.Errorf("age retention kept %v horizon %d", got, h)
	}
	big := mustOpen(t, t.TempDir(), Options{Retention: storage.Retention{MaxBytes: 4096}})
	for z := int64(1); z <= 20; z++ {
		b := txnEvents(z, 1, time.Now())
		b.Events[0].Data = make([]byte, 1000)
		big.Commit(ctx, b)
	}
	got, h := readLog(t, big, 0)
	if len(got) > 4 || len(got) == 0 || got[len(got)-1] != "20 /n20/0" || h < 16 {
		t.Errorf("byte retention kept %v horizon %d", got, h)
	}
}
