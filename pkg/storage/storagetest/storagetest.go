// Package storagetest is the conformance suite every storage.Backend must
// pass. A backend's own test calls Run with a function that opens it:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T, dir string) storage.Backend {
//			return memory.New()
//		}, storagetest.Options{})
//	}
//
// The suite checks the contract documented in pkg/storage: round trips of
// every node field (null versus empty data, ACLs, stored counters and
// ephemeral-owner markers), sessions, LastZxid, batch atomicity (also as
// seen by a concurrent Load), concurrent commits, copying, cancellation and
// Close. With Options.Durable it also closes the backend and reopens it in
// the same directory and checks that everything committed is still there.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// OpenFunc opens a backend whose files (if any) live in dir. Called twice
// with the same dir, it must open the same store, which the suite does only
// for durable backends, after closing the first one. It should fail t
// rather than return nil.
type OpenFunc func(t *testing.T, dir string) storage.Backend

// Options describes the backend under test. The zero value is a backend
// that keeps state only while open (like the memory backend).
type Options struct {
	// Durable says that what was committed survives Close and a new open
	// of the same directory; the suite then runs its reopen tests.
	Durable bool
}

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, open OpenFunc, opts Options) {
	tests := []struct {
		name    string
		durable bool
		fn      func(t *testing.T, open OpenFunc)
	}{
		{"EmptyLoad", false, testEmptyLoad},
		{"PutDeleteRoundTrip", false, testPutDelete},
		{"NullVersusEmptyData", false, testNullVersusEmpty},
		{"EveryFieldPreserved", false, testEveryField},
		{"PutReplacesNode", false, testPutReplaces},
		{"DeleteBeforePutInBatch", false, testDeleteBeforePut},
		{"DeleteMissingIsNoop", false, testDeleteMissing},
		{"Sessions", false, testSessions},
		{"LastZxidIsMaxCommitted", false, testLastZxid},
		{"InvalidBatchAppliesNothing", false, testInvalidBatch},
		{"BatchAtomicUnderConcurrentLoad", false, testAtomicLoad},
		{"ConcurrentCommitsAllLand", false, testConcurrentCommits},
		{"NoAliasing", false, testNoAliasing},
		{"LoadCallbackErrorStops", false, testLoadCallbackError},
		{"CanceledContext", false, testCanceled},
		{"ClosedBackend", false, testClosed},
		{"ReopenPersists", true, testReopen},
		{"ReopenAfterDeletes", true, testReopenAfterDeletes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.durable && !opts.Durable {
				t.Skip("backend is not durable across reopen")
			}
			tc.fn(t, open)
		})
	}
}

// openIn opens a backend in dir and closes it when the test ends.
func openIn(t *testing.T, open OpenFunc, dir string) storage.Backend {
	t.Helper()
	b := open(t, dir)
	if b == nil {
		t.Fatal("open returned a nil backend")
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func openNew(t *testing.T, open OpenFunc) storage.Backend {
	t.Helper()
	return openIn(t, open, t.TempDir())
}

func commit(t *testing.T, b storage.Backend, batch storage.Batch) {
	t.Helper()
	if err := b.Commit(context.Background(), batch); err != nil {
		t.Fatalf("Commit(zxid %d): %v", batch.Zxid, err)
	}
}

// load returns every stored node by path and the state, failing t on a
// duplicate path.
func load(t *testing.T, b storage.Backend) (map[string]storage.Node, storage.State) {
	t.Helper()
	nodes := make(map[string]storage.Node)
	st, err := b.Load(context.Background(), func(n storage.Node) error {
		if _, dup := nodes[n.Path]; dup {
			return fmt.Errorf("path %q loaded twice", n.Path)
		}
		nodes[n.Path] = n
		return nil
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return nodes, st
}

func paths(nodes map[string]storage.Node) []string {
	out := make([]string, 0, len(nodes))
	for p := range nodes {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// sameNode compares two nodes field by field. Data must match exactly,
// including nil versus empty; a nil and an empty ACL list are equal.
func sameNode(a, b storage.Node) bool {
	if (a.Data == nil) != (b.Data == nil) || !bytes.Equal(a.Data, b.Data) {
		return false
	}
	if len(a.ACL) != 0 || len(b.ACL) != 0 {
		if !reflect.DeepEqual(a.ACL, b.ACL) {
			return false
		}
	}
	a.Data, b.Data, a.ACL, b.ACL = nil, nil, nil, nil
	return reflect.DeepEqual(a, b)
}

func wantNodes(t *testing.T, got map[string]storage.Node, want ...storage.Node) {
	t.Helper()
	if len(got) != len(want) {
		wp := make([]string, len(want))
		for i, n := range want {
			wp[i] = n.Path
		}
		sort.Strings(wp)
		t.Fatalf("loaded paths %q, want %q", paths(got), wp)
	}
	for _, w := range want {
		g, ok := got[w.Path]
		if !ok {
			t.Fatalf("node %q missing after load", w.Path)
		}
		if !sameNode(g, w) {
			t.Errorf("node %q loaded as\n\t%+v\nwant\n\t%+v", w.Path, g, w)
		}
	}
}

func sessionsByID(t *testing.T, st storage.State) map[int64]storage.Session {
	t.Helper()
	m := make(map[int64]storage.Session, len(st.Sessions))
	for _, s := range st.Sessions {
		if _, dup := m[s.ID]; dup {
			t.Fatalf("session %#x loaded twice", s.ID)
		}
		m[s.ID] = s
	}
	return m
}

func wantSessions(t *testing.T, st storage.State, want ...storage.Session) {
	t.Helper()
	got := sessionsByID(t, st)
	if len(got) != len(want) {
		t.Fatalf("loaded %d sessions, want %d: %+v", len(got), len(want), st.Sessions)
	}
	for _, w := range want {
		g, ok := got[w.ID]
		if !ok {
			t.Fatalf("session %#x missing after load", w.ID)
		}
		if g.Timeout != w.Timeout || !bytes.Equal(g.Passwd, w.Passwd) {
			t.Errorf("session %#x loaded as %+v, want %+v", w.ID, g, w)
		}
	}
}

func node(path string, data string, zxid int64) storage.Node {
	return storage.Node{
		Path: path, Data: []byte(data), ACL: znode.OpenACLUnsafe,
		Czxid: zxid, Mzxid: zxid, Pzxid: zxid, Ctime: 1000 * zxid, Mtime: 1000 * zxid,
	}
}

func testEmptyLoad(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	nodes, st := load(t, b)
	if len(nodes) != 0 || len(st.Sessions) != 0 || st.LastZxid != 0 {
		t.Fatalf("new backend loaded %d nodes, %d sessions, last zxid %d; want nothing",
			len(nodes), len(st.Sessions), st.LastZxid)
	}
}

func testPutDelete(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	a, ab, c := node("/a", "A", 1), node("/a/b", "B", 2), node("/c", "C", 2)
	commit(t, b, storage.Batch{Zxid: 1, Puts: []storage.Node{a}})
	commit(t, b, storage.Batch{Zxid: 2, Puts: []storage.Node{ab, c}})
	nodes, st := load(t, b)
	wantNodes(t, nodes, a, ab, c)
	if st.LastZxid != 2 {
		t.Errorf("LastZxid = %d, want 2", st.LastZxid)
	}
	commit(t, b, storage.Batch{Zxid: 3, Deletes: []string{"/a/b", "/c"}})
	nodes, _ = load(t, b)
	wantNodes(t, nodes, a)
}

func testNullVersusEmpty(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	null := node("/null", "", 1)
	null.Data = nil
	empty := node("/empty", "", 1)
	empty.Data = []byte{}
	full := node("/full", "\x00\xff data", 1)
	commit(t, b, storage.Batch{Zxid: 1, Puts: []storage.Node{null, empty, full}})
	nodes, _ := load(t, b)
	wantNodes(t, nodes, null, empty, full)
	if nodes["/null"].Data != nil {
		t.Errorf("null data loaded as %#v, want nil", nodes["/null"].Data)
	}
	if nodes["/empty"].Data == nil {
		t.Errorf("empty data loaded as nil, want an empty non-nil slice")
	}
}

func testEveryField(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	acl := []znode.ACL{
		{Perms: znode.PermRead, ID: znode.AnyoneID},
		{Perms: znode.PermAll, ID: znode.ID{Scheme: "digest", ID: "user:aGFzaA=="}},
		{Perms: znode.PermCreate | znode.PermDelete, ID: znode.ID{Scheme: "ip", ID: "10.0.0.0/8"}},
	}
	tests := []storage.Node{
		{
			Path: "/all", Data: []byte("payload"), ACL: acl,
			Czxid: 0x100000001, Mzxid: 0x100000007, Ctime: 1700000000123, Mtime: 1700000009999,
			Version: 7, Cversion: 42, Aversion: 3, EphemeralOwner: 0x1234567890abcdef, Pzxid: 0x100000005,
		},
		{Path: "/container", Data: nil, ACL: znode.OpenACLUnsafe, EphemeralOwner: znode.ContainerOwner, Czxid: 9},
		{Path: "/ttl", Data: []byte{}, ACL: znode.OpenACLUnsafe, EphemeralOwner: znode.TTLOwnerMask | 5000, Czxid: 9},
		{
			Path: "/extremes", ACL: znode.ReadACLUnsafe,
			Czxid: -1, Mzxid: 1<<63 - 1, Ctime: -5, Mtime: 1<<63 - 1,
			Version: -1 << 31, Cversion: -1, Aversion: 1<<31 - 1, EphemeralOwner: -1, Pzxid: -1 << 63,
		},
		{Path: "/unicode/ü/日本", Data: []byte("x"), ACL: znode.OpenACLUnsafe},
	}
	commit(t, b, storage.Batch{Zxid: 10, Puts: tests})
	nodes, _ := load(t, b)
	wantNodes(t, nodes, tests...)
}

func testPutReplaces(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	commit(t, b, storage.Batch{Zxid: 1, Puts: []storage.Node{node("/a", "old", 1)}})
	updated := node("/a", "", 1)
	updated.Data = nil
	updated.Version, updated.Mzxid = 1, 2
	commit(t, b, storage.Batch{Zxid: 2, Puts: []storage.Node{updated}})
	nodes, _ := load(t, b)
	wantNodes(t, nodes, updated)
}

func testDeleteBeforePut(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	commit(t, b, storage.Batch{Zxid: 1, Puts: []storage.Node{node("/a", "first", 1)}})
	again := node("/a", "second", 2)
	commit(t, b, storage.Batch{
		Zxid: 2, Deletes: []string{"/a"}, Puts: []storage.Node{again},
		SessionDeletes: []int64{7}, SessionPuts: []storage.Session{{ID: 7, Timeout: 4000, Passwd: []byte("p")}},
	})
	nodes, st := load(t, b)
	wantNodes(t, nodes, again)
	wantSessions(t, st, storage.Session{ID: 7, Timeout: 4000, Passwd: []byte("p")})
}

func testDeleteMissing(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	commit(t, b, storage.Batch{Zxid: 1, Deletes: []string{"/never"}, SessionDeletes: []int64{99}})
	nodes, st := load(t, b)
	wantNodes(t, nodes)
	wantSessions(t, st)
	if st.LastZxid != 1 {
		t.Errorf("LastZxid = %d, want 1", st.LastZxid)
	}
}

func testSessions(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	s1 := storage.Session{ID: 0x100, Timeout: 30000, Passwd: bytes.Repeat([]byte{0xab}, 16)}
	s2 := storage.Session{ID: -0x7fffffffffffffff, Timeout: 4000, Passwd: []byte{}}
	s3 := storage.Session{ID: 0x300, Timeout: 6000, Passwd: []byte("pw")}
	commit(t, b, storage.Batch{Zxid: 1, SessionPuts: []storage.Session{s1, s2, s3}})
	_, st := load(t, b)
	wantSessions(t, st, s1, s2, s3)

	s1.Timeout = 40000
	commit(t, b, storage.Batch{Zxid: 2, SessionPuts: []storage.Session{s1}, SessionDeletes: []int64{s2.ID}})
	_, st = load(t, b)
	wantSessions(t, st, s1, s3)
}

func testLastZxid(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	steps := []struct {
		name  string
		batch storage.Batch
		want  int64
	}{
		{"first commit", storage.Batch{Zxid: 5, Puts: []storage.Node{node("/a", "", 5)}}, 5},
		{"higher zxid", storage.Batch{Zxid: 0x200000001, Deletes: []string{"/a"}}, 0x200000001},
		{"lower zxid never lowers it", storage.Batch{Zxid: 7, Puts: []storage.Node{node("/b", "", 7)}}, 0x200000001},
		{"empty batch still advances it", storage.Batch{Zxid: 0x200000009}, 0x200000009},
	}
	for _, s := range steps {
		commit(t, b, s.batch)
		if _, st := load(t, b); st.LastZxid != s.want {
			t.Errorf("%s: LastZxid = %#x, want %#x", s.name, st.LastZxid, s.want)
		}
	}
}

func testInvalidBatch(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	base := node("/keep", "v", 1)
	commit(t, b, storage.Batch{Zxid: 1, Puts: []storage.Node{base}})
	tests := []struct {
		name  string
		batch storage.Batch
	}{
		{"empty put path", storage.Batch{Zxid: 9, Puts: []storage.Node{node("/x", "", 9), {Path: ""}}, Deletes: []string{"/keep"}}},
		{"relative put path", storage.Batch{Zxid: 9, Puts: []storage.Node{node("/x", "", 9), {Path: "x"}}}},
		{"empty delete path", storage.Batch{Zxid: 9, Puts: []storage.Node{node("/x", "", 9)}, Deletes: []string{"/keep", ""}}},
		{"session id 0", storage.Batch{Zxid: 9, Puts: []storage.Node{node("/x", "", 9)}, SessionPuts: []storage.Session{{ID: 0}}}},
		{"session delete 0", storage.Batch{Zxid: 9, Deletes: []string{"/keep"}, SessionDeletes: []int64{0}}},
	}
	for _, tc := range tests {
		err := b.Commit(context.Background(), tc.batch)
		if !errors.Is(err, storage.ErrInvalidBatch) {
			t.Errorf("%s: Commit error = %v, want ErrInvalidBatch", tc.name, err)
		}
		nodes, st := load(t, b)
		wantNodes(t, nodes, base)
		wantSessions(t, st)
		if st.LastZxid != 1 {
			t.Errorf("%s: LastZxid = %d after a rejected batch, want 1", tc.name, st.LastZxid)
		}
	}
}

// testAtomicLoad commits batches of perBatch nodes (batch i has zxid i)
// while other goroutines Load: every Load must see whole batches, and the
// nodes it sees must agree with its LastZxid.
func testAtomicLoad(t *testing.T, open OpenFunc) {
	const (
		batches  = 60
		perBatch = 16
		readers  = 3
	)
	b := openNew(t, open)
	done := make(chan struct{})
	errs := make(chan error, readers)
	var wg sync.WaitGroup
	for r := 0; r < readers; r++ {
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
				st, err := b.Load(context.Background(), func(storage.Node) error { n++; return nil })
				if err != nil {
					errs <- err
					return
				}
				if n != int(st.LastZxid)*perBatch {
					errs <- fmt.Errorf("Load saw %d nodes with LastZxid %d; want %d (a batch was split)",
						n, st.LastZxid, int(st.LastZxid)*perBatch)
					return
				}
			}
		}()
	}
	for i := 1; i <= batches; i++ {
		batch := storage.Batch{Zxid: int64(i)}
		for k := 0; k < perBatch; k++ {
			batch.Puts = append(batch.Puts, node(fmt.Sprintf("/b%03d/n%02d", i, k), "v", int64(i)))
		}
		commit(t, b, batch)
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if nodes, _ := load(t, b); len(nodes) != batches*perBatch {
		t.Errorf("loaded %d nodes, want %d", len(nodes), batches*perBatch)
	}
}

func testConcurrentCommits(t *testing.T, open OpenFunc) {
	const (
		writers = 8
		each    = 40
	)
	b := openNew(t, open)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				zxid := int64(w*each + i + 1)
				err := b.Commit(context.Background(), storage.Batch{
					Zxid:        zxid,
					Puts:        []storage.Node{node(fmt.Sprintf("/w%d/%d", w, i), "v", zxid)},
					SessionPuts: []storage.Session{{ID: zxid, Timeout: 1000, Passwd: []byte{byte(w)}}},
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Commit: %v", err)
	}
	nodes, st := load(t, b)
	if len(nodes) != writers*each {
		t.Errorf("loaded %d nodes, want %d", len(nodes), writers*each)
	}
	for w := 0; w < writers; w++ {
		for i := 0; i < each; i++ {
			if _, ok := nodes[fmt.Sprintf("/w%d/%d", w, i)]; !ok {
				t.Errorf("node /w%d/%d lost", w, i)
			}
		}
	}
	if len(st.Sessions) != writers*each {
		t.Errorf("loaded %d sessions, want %d", len(st.Sessions), writers*each)
	}
	if st.LastZxid != writers*each {
		t.Errorf("LastZxid = %d, want %d", st.LastZxid, writers*each)
	}
}

func testNoAliasing(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	n := node("/a", "orig", 1)
	n.ACL = []znode.ACL{{Perms: znode.PermAll, ID: znode.AnyoneID}}
	s := storage.Session{ID: 1, Timeout: 1000, Passwd: []byte("pass")}
	batch := storage.Batch{Zxid: 1, Puts: []storage.Node{n}, SessionPuts: []storage.Session{s}}
	commit(t, b, batch)

	// The caller reuses its buffers after Commit returns.
	copy(n.Data, "XXXX")
	n.ACL[0].Perms = 0
	copy(s.Passwd, "XXXX")
	batch.Puts[0].Path = "/changed"

	nodes, st := load(t, b)
	want := node("/a", "orig", 1)
	wantNodes(t, nodes, want)
	wantSessions(t, st, storage.Session{ID: 1, Timeout: 1000, Passwd: []byte("pass")})

	// Modifying what Load returned does not change the store either.
	got := nodes["/a"]
	copy(got.Data, "YYYY")
	if len(got.ACL) > 0 {
		got.ACL[0].Perms = 0
	}
	copy(st.Sessions[0].Passwd, "YYYY")
	nodes, st = load(t, b)
	wantNodes(t, nodes, want)
	wantSessions(t, st, storage.Session{ID: 1, Timeout: 1000, Passwd: []byte("pass")})
}

func testLoadCallbackError(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	commit(t, b, storage.Batch{Zxid: 1, Puts: []storage.Node{node("/a", "", 1), node("/b", "", 1), node("/c", "", 1)}})
	stop := errors.New("stop here")
	calls := 0
	_, err := b.Load(context.Background(), func(storage.Node) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("Load error = %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("callback called %d times after returning an error, want 1", calls)
	}
}

func testCanceled(t *testing.T, open OpenFunc) {
	b := openNew(t, open)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := b.Commit(ctx, storage.Batch{Zxid: 4, Puts: []storage.Node{node("/a", "", 4)}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Commit with a canceled context: error = %v, want context.Canceled", err)
	}
	nodes, st := load(t, b)
	if len(nodes) != 0 || st.LastZxid != 0 {
		t.Errorf("canceled Commit applied: %d nodes, LastZxid %d", len(nodes), st.LastZxid)
	}
	if _, err := b.Load(ctx, func(storage.Node) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a canceled context: error = %v, want context.Canceled", err)
	}
}

func testClosed(t *testing.T, open OpenFunc) {
	b := open(t, t.TempDir())
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if err := b.Commit(context.Background(), storage.Batch{Zxid: 1}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Commit after Close: %v, want ErrClosed", err)
	}
	if _, err := b.Load(context.Background(), func(storage.Node) error { return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Load after Close: %v, want ErrClosed", err)
	}
}

func testReopen(t *testing.T, open OpenFunc) {
	dir := t.TempDir()
	b := open(t, dir)
	null := node("/null", "", 1)
	null.Data = nil
	empty := node("/empty", "", 2)
	empty.Data = []byte{}
	full := storage.Node{
		Path: "/full/x", Data: []byte("data"), ACL: znode.ReadACLUnsafe,
		Czxid: 3, Mzxid: 4, Ctime: 5, Mtime: 6, Version: 7, Cversion: -8, Aversion: 9,
		EphemeralOwner: znode.TTLOwnerMask | 10, Pzxid: 11,
	}
	sess := storage.Session{ID: 0x55, Timeout: 12000, Passwd: []byte("0123456789abcdef")}
	commit(t, b, storage.Batch{Zxid: 2, Puts: []storage.Node{null, empty}})
	commit(t, b, storage.Batch{Zxid: 0x300000001, Puts: []storage.Node{full}, SessionPuts: []storage.Session{sess}})
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	b = openIn(t, open, dir)
	nodes, st := load(t, b)
	wantNodes(t, nodes, null, empty, full)
	wantSessions(t, st, sess)
	if st.LastZxid != 0x300000001 {
		t.Errorf("LastZxid after reopen = %#x, want 0x300000001", st.LastZxid)
	}
}

func testReopenAfterDeletes(t *testing.T, open OpenFunc) {
	dir := t.TempDir()
	b := open(t, dir)
	commit(t, b, storage.Batch{Zxid: 1, Puts: []storage.Node{node("/a", "", 1), node("/b", "", 1)},
		SessionPuts: []storage.Session{{ID: 1, Timeout: 1}, {ID: 2, Timeout: 2}}})
	commit(t, b, storage.Batch{Zxid: 2, Deletes: []string{"/a"}, SessionDeletes: []int64{1}})
	commit(t, b, storage.Batch{Zxid: 3}) // advances LastZxid only
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	b = openIn(t, open, dir)
	nodes, st := load(t, b)
	wantNodes(t, nodes, node("/b", "", 1))
	wantSessions(t, st, storage.Session{ID: 2, Timeout: 2})
	if st.LastZxid != 3 {
		t.Errorf("LastZxid after reopen = %d, want 3", st.LastZxid)
	}
}
