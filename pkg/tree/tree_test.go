package tree

import (
	"errors"
	"math/rand"
	"reflect"
	"slices"
	"testing"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

func TestNew(t *testing.T) {
	tr := New()
	tests := []struct {
		path     string
		wantStat znode.Stat
		wantACL  []znode.ACL
		children []string
	}{
		{"/", znode.Stat{Cversion: -1, NumChildren: 1}, znode.OpenACLUnsafe, []string{"zookeeper"}},
		{"/zookeeper", znode.Stat{Cversion: -2, NumChildren: 2}, znode.OpenACLUnsafe, []string{"config", "quota"}},
		{"/zookeeper/quota", znode.Stat{}, znode.OpenACLUnsafe, []string{}},
		{"/zookeeper/config", znode.Stat{Aversion: -1}, znode.ReadACLUnsafe, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			data, st, err := tr.GetData(tc.path, nil)
			if err != nil {
				t.Fatalf("GetData: %v", err)
			}
			if data == nil || len(data) != 0 {
				t.Errorf("data = %#v, want empty and not null", data)
			}
			if st != tc.wantStat {
				t.Errorf("stat = %+v, want %+v", st, tc.wantStat)
			}
			acl, _, err := tr.GetACL(tc.path, nil)
			if err != nil || !reflect.DeepEqual(acl, tc.wantACL) {
				t.Errorf("ACL = %v, %v; want %v", acl, err, tc.wantACL)
			}
			kids, _, err := tr.Children(tc.path, nil)
			if err != nil || !reflect.DeepEqual(kids, tc.children) {
				t.Errorf("children = %q, %v; want %q", kids, err, tc.children)
			}
		})
	}
	if tr.Len() != 4 {
		t.Errorf("Len = %d, want 4", tr.Len())
	}
	if n, err := tr.AllChildrenNumber("/", nil); n != 3 || err != nil {
		t.Errorf("AllChildrenNumber(/) = %d, %v; want 3", n, err)
	}
	if got := tr.ApproximateDataSize(); got != int64(len("/")+len("/zookeeper")+len("/zookeeper/quota")+len("/zookeeper/config")) {
		t.Errorf("ApproximateDataSize = %d, want 44", got)
	}
	checkInvariants(t, tr)
}

func TestReads(t *testing.T) {
	tr := fixture(t)
	mustApply(t, tr, txAt(3),
		Create{Path: "/null", Data: nil, ACL: openACL, TTL: -1},
		Create{Path: "/empty", Data: []byte{}, ACL: openACL, TTL: -1},
		mkACL("/noread/kid", openACL),
	)
	tests := []struct {
		name     string
		read     func() error
		wantErr  error
		wantNote string
	}{
		{"getData null data is nil", func() error {
			d, st, err := tr.GetData("/null", nil)
			if err == nil && (d != nil || st.DataLength != 0) {
				return errors.New("null data not nil")
			}
			return err
		}, nil, ""},
		{"getData empty data is not nil", func() error {
			d, _, err := tr.GetData("/empty", nil)
			if err == nil && d == nil {
				return errors.New("empty data returned as nil")
			}
			return err
		}, nil, ""},
		{"getData missing", func() error { _, _, err := tr.GetData("/nope", nil); return err }, znode.ErrNoNode, ""},
		{"getData no READ", func() error { _, _, err := tr.GetData("/noread", nil); return err }, znode.ErrNoAuth, ""},
		{"getData digest with digest", func() error { _, _, err := tr.GetData("/secret", []znode.ID{alice}); return err }, nil, ""},
		{"getData digest other user", func() error { _, _, err := tr.GetData("/secret", []znode.ID{bob}); return err }, znode.ErrNoAuth, ""},
		{"getData super", func() error { _, _, err := tr.GetData("/secret", []znode.ID{znode.SuperID}); return err }, nil, ""},
		{"getData no path validation", func() error { _, _, err := tr.GetData("a/b", nil); return err }, znode.ErrNoNode, ""},
		{"exists missing", func() error { _, err := tr.Exists("/nope", nil); return err }, znode.ErrNoNode, ""},
		{"exists unreadable is NoAuth", func() error { _, err := tr.Exists("/noread", nil); return err }, znode.ErrNoAuth, ""},
		{"exists NUL", func() error { _, err := tr.Exists("/a\x00", nil); return err }, znode.ErrBadArguments, ""},
		{"exists readable child of unreadable", func() error { _, err := tr.Exists("/noread/kid", nil); return err }, nil, ""},
		{"children missing", func() error { _, _, err := tr.Children("/nope", nil); return err }, znode.ErrNoNode, ""},
		{"children no READ", func() error { _, _, err := tr.Children("/noread", nil); return err }, znode.ErrNoAuth, ""},
		{"getACL missing", func() error { _, _, err := tr.GetACL("/nope", nil); return err }, znode.ErrNoNode, ""},
		{"getACL with ADMIN but no READ", func() error { _, _, err := tr.GetACL("/noread", nil); return err }, nil, ""},
		{"getACL neither READ nor ADMIN", func() error {
			mustApply(t, tr, txAt(4), mkACL("/blind", aclWithout(znode.PermRead|znode.PermAdmin)))
			_, _, err := tr.GetACL("/blind", nil)
			return err
		}, znode.ErrNoAuth, ""},
		{"allChildrenNumber missing", func() error { _, err := tr.AllChildrenNumber("/nope", nil); return err }, znode.ErrNoNode, ""},
		{"allChildrenNumber no READ", func() error { _, err := tr.AllChildrenNumber("/noread", nil); return err }, znode.ErrNoAuth, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.read()
			if tc.wantErr == nil && err != nil {
				t.Fatalf("error = %v, want success", err)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestChildrenSortedWithStat(t *testing.T) {
	tr := New()
	mustApply(t, tr, txAt(1), mk("/p"), mk("/p/c"), mk("/p/a"), mk("/p/b"))
	kids, st, err := tr.Children("/p", nil)
	if err != nil || !reflect.DeepEqual(kids, []string{"a", "b", "c"}) {
		t.Fatalf("Children = %q, %v", kids, err)
	}
	if st.NumChildren != 3 || st.Cversion != 3 {
		t.Errorf("stat = %+v, want 3 children, cversion 3", st)
	}
}

func TestGetACLRedaction(t *testing.T) {
	acl := []znode.ACL{
		{Perms: znode.PermRead, ID: znode.AnyoneID},
		{Perms: znode.PermAll, ID: alice},
		{Perms: znode.PermRead, ID: znode.ID{Scheme: "ip", ID: "10.0.0.1"}},
	}
	redacted := []znode.ACL{
		{Perms: znode.PermRead, ID: znode.AnyoneID},
		{Perms: znode.PermAll, ID: znode.ID{Scheme: "digest", ID: "alice:x"}},
		{Perms: znode.PermRead, ID: znode.ID{Scheme: "ip", ID: "10.0.0.1"}},
	}
	tr := New()
	tx := txAt(1)
	tx.Auth = []znode.ID{alice}
	mustApply(t, tr, tx, mkACL("/r", acl))
	tests := []struct {
		name string
		auth []znode.ID
		want []znode.ACL
	}{
		{"READ only sees digests redacted", nil, redacted},
		{"other digest user is redacted too", []znode.ID{bob}, redacted},
		{"ADMIN sees everything", []znode.ID{alice}, acl},
		{"super sees everything", []znode.ID{znode.SuperID}, acl},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, st, err := tr.GetACL("/r", tc.auth)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ACL = %v, want %v", got, tc.want)
			}
			if st.Czxid != 1 {
				t.Errorf("stat = %+v", st)
			}
		})
	}
	// The returned ACL is a copy.
	got, _, _ := tr.GetACL("/r", []znode.ID{alice})
	got[0].Perms = 0
	if _, again, _ := tr.Stat("/r"); again[0].Perms != znode.PermRead {
		t.Errorf("modifying GetACL's result changed the tree")
	}
}

func TestAllChildrenNumber(t *testing.T) {
	tr := New()
	mustApply(t, tr, txAt(1), mk("/a"), mk("/a/b"), mk("/a/b/c"), mk("/a/b/d"), mk("/a/e"), mk("/ab"), mk("/ab/x"))
	tests := []struct {
		path string
		want int32
	}{
		{"/", 10},
		{"/a", 4},
		{"/a/b", 2},
		{"/a/b/c", 0},
		{"/ab", 1},
		{"/zookeeper", 2},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got, err := tr.AllChildrenNumber(tc.path, nil); got != tc.want || err != nil {
				t.Errorf("AllChildrenNumber(%s) = %d, %v; want %d", tc.path, got, err, tc.want)
			}
		})
	}
}

func TestEphemerals(t *testing.T) {
	tr := New()
	mustApply(t, tr, txAt(1), mk("/a"), mkMode("/a/e1", znode.ModeEphemeral), mkMode("/ab", znode.ModeEphemeral),
		mkMode("/b", znode.ModeEphemeral), mkMode("/c", znode.ModeContainer))
	tx := txAt(2)
	tx.Session = 0x2000
	mustApply(t, tr, tx, mkMode("/a/other", znode.ModeEphemeral))
	all := []string{"/a/e1", "/ab", "/b"}
	tests := []struct {
		name   string
		prefix string
		want   []string
	}{
		{"empty prefix is all", "", all},
		{"blank prefix is all", " \t", all},
		{"root is all", "/", all},
		{"root with spaces is all", " / ", all},
		{"plain string prefix, not path-aware", "/a", []string{"/a/e1", "/ab"}},
		{"path prefix", "/a/", []string{"/a/e1"}},
		{"no match", "/zzz", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tr.Ephemerals(sess, tc.prefix); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Ephemerals(%q) = %q, want %q", tc.prefix, got, tc.want)
			}
		})
	}
	if got := tr.Ephemerals(0x9999, ""); len(got) != 0 {
		t.Errorf("unknown session has ephemerals %q", got)
	}
	if tr.EphemeralCount() != 4 {
		t.Errorf("EphemeralCount = %d, want 4 (containers excluded)", tr.EphemeralCount())
	}
}

func TestReapCandidates(t *testing.T) {
	tr := New()
	tx := Txn{Zxid: 1, Time: 1000, ExtendedTypes: true}
	ttl := func(p string, ms int64) Create {
		return Create{Path: p, ACL: openACL, Mode: znode.ModePersistentWithTTL, TTL: ms}
	}
	mustApply(t, tr, tx,
		mkMode("/never", znode.ModeContainer),
		mkMode("/used", znode.ModeContainer), mk("/used/x"),
		mkMode("/full", znode.ModeContainer), mk("/full/x"),
		ttl("/t100", 100), ttl("/t5000", 5000), ttl("/tkids", 100), mk("/tkids/x"),
		ttl("/touched", 100),
		mk("/plain"),
	)
	mustApply(t, tr, Txn{Zxid: 2, Time: 1050}, Delete{Path: "/used/x", Version: -1}, SetData{Path: "/touched", Version: -1})
	tests := []struct {
		name       string
		now        int64
		maxNeverMs int64
		want       []string
	}{
		{"at creation only emptied containers", 1000, 0, []string{"/used"}},
		{"never-used disabled keeps unused containers", 1_000_000, 0, []string{"/t100", "/t5000", "/touched", "/used"}},
		{"never-used interval reaps old empty containers", 1_000_000, 1000, []string{"/never", "/t100", "/t5000", "/touched", "/used"}},
		{"never-used not yet passed", 1500, 1000, []string{"/t100", "/touched", "/used"}},
		{"ttl is strict: mtime+ttl is not yet expired", 1100, 0, []string{"/used"}},
		{"setData extends a TTL node", 1101, 0, []string{"/t100", "/used"}},
		{"touched expires after its new mtime", 1151, 0, []string{"/t100", "/touched", "/used"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tr.ReapCandidates(tc.now, tc.maxNeverMs)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReapCandidates(%d, %d) = %q, want %q", tc.now, tc.maxNeverMs, got, tc.want)
			}
		})
	}
	for _, p := range tr.ReapCandidates(1_000_000, 1) {
		if out := tr.Apply(txAt(3), DeleteContainer{Path: p}); out.Err != nil {
			t.Errorf("DeleteContainer(%s) of a candidate: %v", p, out.Err)
		}
	}
	checkInvariants(t, tr)
}

func TestCountersTrackChanges(t *testing.T) {
	tr := New()
	base := tr.ApproximateDataSize()
	mustApply(t, tr, txAt(1), Create{Path: "/abc", Data: []byte("12345"), ACL: openACL, TTL: -1})
	if got := tr.ApproximateDataSize() - base; got != 4+5 || tr.Len() != 5 {
		t.Errorf("after create: size +%d (want +9), Len %d (want 5)", got, tr.Len())
	}
	mustApply(t, tr, txAt(2), SetData{Path: "/abc", Data: []byte("1"), Version: -1})
	if got := tr.ApproximateDataSize() - base; got != 4+1 {
		t.Errorf("after setData: size +%d, want +5", got)
	}
	mustApply(t, tr, txAt(3), Delete{Path: "/abc", Version: -1})
	if tr.ApproximateDataSize() != base || tr.Len() != 4 {
		t.Errorf("after delete: size %d (want %d), Len %d (want 4)", tr.ApproximateDataSize(), base, tr.Len())
	}
}

// store is a minimal key-value image that applies batches the way the
// storage contract says (deletes, then puts; LastZxid is the max).
type store struct {
	nodes    map[string]storage.Node
	lastZxid int64
}

func (s *store) commit(b storage.Batch) {
	for _, p := range b.Deletes {
		delete(s.nodes, p)
	}
	for _, n := range b.Puts {
		n.Data = slices.Clone(n.Data) // keeps nil as nil
		n.ACL = slices.Clone(n.ACL)
		s.nodes[n.Path] = n
	}
	s.lastZxid = max(s.lastZxid, b.Zxid)
}

// build applies a varied history, for restore tests, committing every
// batch to s when s is not nil.
func build(t *testing.T, s *store) *Tree {
	t.Helper()
	tr := New()
	commit := func(out Outcome) {
		if s != nil {
			s.commit(out.Batch)
		}
	}
	tx := txAt(1)
	tx.ExtendedTypes = true
	tx.Auth = []znode.ID{alice}
	commit(mustApply(t, tr, tx,
		mk("/app"), mkMode("/app/q-", znode.ModePersistentSequential), mkMode("/app/q-", znode.ModePersistentSequential),
		Create{Path: "/app/null", Data: nil, ACL: znode.CreatorAllACL, TTL: -1},
		Create{Path: "/app/empty", Data: []byte{}, ACL: openACL, TTL: -1},
		mkMode("/app/eph", znode.ModeEphemeral), mkMode("/lock", znode.ModeContainer), mk("/lock/x"),
		Create{Path: "/t", ACL: openACL, Mode: znode.ModePersistentWithTTL, TTL: 777},
	))
	commit(mustApply(t, tr, txAt(2), Delete{Path: "/app/q-0000000000", Version: -1}, SetData{Path: "/app", Data: []byte("v2"), Version: 0}))
	commit(mustApply(t, tr, txAt(3), SetACL{Path: "/app", ACL: znode.ReadACLUnsafe, Version: 0}, SetData{Path: "/", Data: []byte("root"), Version: -1}))
	commit(mustApply(t, tr, txAt(4), Delete{Path: "/lock/x", Version: -1}))
	commit(tr.Apply(txAt(5), mk("/app/fails"))) // NoAuth: /app is read-only now
	return tr
}

func TestRestoreFromNodes(t *testing.T) {
	tr := build(t, nil)
	nodes := tr.Nodes()
	rand.New(rand.NewSource(1)).Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	got, err := NewFromStorage(nodes)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, tr) {
		t.Errorf("tree rebuilt from Nodes() differs from the original")
	}
	checkInvariants(t, got)
}

// TestRestoreFromBatches persists every batch, as a backend would, and
// checks the tree rebuilt from what was stored equals the live one: the
// batches name every change, with stored counters and markers.
func TestRestoreFromBatches(t *testing.T) {
	s := &store{nodes: make(map[string]storage.Node)}
	tr := build(t, s)
	if s.lastZxid != 5 {
		t.Errorf("last zxid = %d, want 5 (a failed txn's batch carries its zxid)", s.lastZxid)
	}
	var nodes []storage.Node
	for _, n := range s.nodes {
		nodes = append(nodes, n)
	}
	got, err := NewFromStorage(nodes)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, tr) {
		for _, n := range got.Nodes() {
			if want, _, _ := tr.Stat(n.Path); want != mustStat(t, got, n.Path) {
				t.Errorf("%s: restored stat %+v, live %+v", n.Path, mustStat(t, got, n.Path), want)
			}
		}
		t.Fatalf("restored tree differs from the live one")
	}
	if got.EphemeralCount() != 1 || len(got.ReapCandidates(1<<40, 0)) != 2 {
		t.Errorf("indexes not rebuilt: %d ephemerals, candidates %q", got.EphemeralCount(), got.ReapCandidates(1<<40, 0))
	}
	// The restored tree goes on naming sequential nodes where it left off.
	super := txAt(6)
	super.Auth = []znode.ID{znode.SuperID}
	mustApply(t, got, super, SetACL{Path: "/app", ACL: openACL, Version: -1})
	if p := mustApply(t, got, txAt(7), mkMode("/app/q-", znode.ModePersistentSequential)).Results[0].Path; p != "/app/q-0000000005" {
		t.Errorf("next sequential = %q, want /app/q-0000000005 (5 creates so far)", p)
	}
}

func TestNewFromStorage(t *testing.T) {
	node := func(p string) storage.Node { return storage.Node{Path: p, ACL: openACL} }
	tests := []struct {
		name    string
		nodes   []storage.Node
		wantErr error
		wantLen int
	}{
		{"nothing stored gives a new tree", nil, nil, 4},
		{"only root stored: specials added", []storage.Node{{Path: "/", Data: []byte("r"), ACL: openACL, Cversion: 5}}, nil, 4},
		{"children in any order", []storage.Node{node("/a/b/c"), node("/a"), node("/a/b")}, nil, 7},
		{"missing parent", []storage.Node{node("/a/b")}, znode.ErrBadArguments, 0},
		{"duplicate", []storage.Node{node("/a"), node("/a")}, znode.ErrBadArguments, 0},
		{"invalid path", []storage.Node{node("/a/")}, znode.ErrBadArguments, 0},
		{"empty path", []storage.Node{node("")}, znode.ErrBadArguments, 0},
		{"child of ephemeral", []storage.Node{{Path: "/e", EphemeralOwner: 5}, node("/e/x")}, znode.ErrBadArguments, 0},
		{"unknown extended owner", []storage.Node{{Path: "/x", EphemeralOwner: znode.TTLOwnerMask | 1<<40 | 5}}, znode.ErrBadArguments, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewFromStorage(tc.nodes)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got.Len() != tc.wantLen {
				t.Errorf("Len = %d, want %d", got.Len(), tc.wantLen)
			}
			checkInvariants(t, got)
			if _, err := got.Exists("/zookeeper/config", nil); err != nil {
				t.Errorf("special node missing: %v", err)
			}
		})
	}
	if got, _ := NewFromStorage(nil); !reflect.DeepEqual(got, New()) {
		t.Errorf("NewFromStorage(nil) differs from New()")
	}
}
