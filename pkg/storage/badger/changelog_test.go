package badger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

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

// eventKeys counts the change log's badger entries.
func eventKeys(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.db.View(func(txn *bdg.Txn) error {
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = []byte(eventPrefix)
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
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

// TestChangeLogBlocks checks that events are stored many to a badger
// entry and that reading from any zxid, inside a block or at its edge,
// returns exactly the later events, before and after a reopen.
func TestChangeLogBlocks(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	ctx := context.Background()
	now := time.Now()
	const txns = 1000
	for z := int64(1); z <= txns; z++ {
		if err := s.Commit(ctx, txnEvents(z, 1+int(z%3), now)); err != nil {
			t.Fatal(err)
		}
	}
	all, horizon := readLog(t, s, 0)
	if horizon != 0 || len(all) != 2000 || all[0] != "1 /n1/0" || all[len(all)-1] != "1000 /n1000/1" {
		t.Fatalf("read %d events (first %q, last %q), horizon %d", len(all), all[0], all[len(all)-1], horizon)
	}
	if n := eventKeys(t, s); n > len(all)/100 {
		t.Errorf("%d events are stored in %d badger entries, want blocks of many events", len(all), n)
	}
	check := func(s *Store) {
		t.Helper()
		for _, after := range []int64{0, 1, 2, 255, 256, 257, 500, 999, 1000, 5000} {
			got, _ := readLog(t, s, after)
			var want []string
			for _, e := range all {
				var z int64
				fmt.Sscan(e, &z)
				if z > after {
					want = append(want, e)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("Events(after %d): %d events, want %d", after, len(got), len(want))
			}
		}
	}
	check(s)
	s.Close()
	s = mustOpen(t, dir, Options{})
	check(s)
}

// TestChangeLogRetentionGranularity checks that pruning whole blocks keeps
// within 1/16 of the count bound, drops whole transactions, and keeps the
// horizon just below the first event kept.
func TestChangeLogRetentionGranularity(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{Retention: storage.Retention{MaxEvents: 1600}})
	ctx := context.Background()
	for z := int64(1); z <= 2000; z++ {
		if err := s.Commit(ctx, txnEvents(z, 2, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	got, horizon := readLog(t, s, 0)
	if len(got) > 1600+160 || len(got) < 1600-100 {
		t.Errorf("kept %d events, want 1600 within a block (100) below and the 10%% slack above", len(got))
	}
	var first int64
	fmt.Sscan(got[0], &first)
	if first != horizon+1 || got[0] != fmt.Sprintf("%d /n%d/0", first, first) || got[len(got)-1] != "2000 /n2000/1" {
		t.Errorf("first kept %q, last %q, horizon %d: want whole transactions from horizon+1 to 2000", got[0], got[len(got)-1], horizon)
	}
}

// TestChangeLogReadsSingleEventValues checks that a change log written one
// event per entry, as earlier zkx versions did, is still read and pruned.
func TestChangeLogReadsSingleEventValues(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	now := time.Now()
	err := s.db.Update(func(txn *bdg.Txn) error {
		for z := int64(1); z <= 3; z++ {
			for _, o := range encodeEvents(nil, txnEvents(z, 2, now).Events) {
				if err := txn.Set(o.key, o.val); err != nil {
					return err
				}
			}
		}
		return txn.Set(keyLastZxid, bytesInt64(3))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = mustOpen(t, dir, Options{Retention: storage.Retention{MaxEvents: 4}})
	if err := s.Commit(context.Background(), txnEvents(4, 2, now)); err != nil {
		t.Fatal(err)
	}
	got, horizon := readLog(t, s, 0)
	want := []string{"3 /n3/0", "3 /n3/1", "4 /n4/0", "4 /n4/1"}
	if !slices.Equal(got, want) || horizon != 2 {
		t.Errorf("read %v horizon %d, want %v horizon 2", got, horizon, want)
	}
}

func TestDecodeBlockRejectsDamage(t *testing.T) {
	good := newBlockWriter(storage.Retention{MaxEvents: 1000, MaxBytes: 1 << 20, MaxAge: time.Hour})
	for _, o := range encodeEvents(nil, txnEvents(7, 2, time.Now()).Events) {
		good.add(&o)
	}
	_, val, _, _ := good.take()
	tests := []struct {
		name string
		v    []byte
	}{
		{"empty value", nil},
		{"block without events", []byte{eventBlock}},
		{"length past the end", append([]byte{eventBlock}, 0x7f, 1, 2)},
		{"truncated block", val[:len(val)-3]},
		{"unknown record version", []byte{9, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeBlock(tc.v, func(*znode.Event) bool { return true })
			if !errors.Is(err, errCorrupt) {
				t.Errorf("decodeBlock = %v, want a corruption error", err)
			}
		})
	}
	n := 0
	if err := decodeBlock(val, func(ev *znode.Event) bool { n++; return ev.Zxid == 7 }); err != nil || n != 2 {
		t.Errorf("intact block: %d events, err %v", n, err)
	}
}
