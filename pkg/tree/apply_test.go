package tree

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

func TestStatFidelity(t *testing.T) {
	tr := New()
	steps := []struct {
		name string
		tx   Txn
		ops  []Op
		path string
		want znode.Stat
	}{
		{
			name: "create sets czxid mzxid pzxid ctime mtime",
			tx:   txAt(10), ops: []Op{mk("/p")}, path: "/p",
			want: znode.Stat{Czxid: 10, Mzxid: 10, Ctime: 10000, Mtime: 10000, Pzxid: 10, DataLength: 1},
		},
		{
			name: "child create: cversion 2*1-1, pzxid moves, mzxid does not",
			tx:   txAt(11), ops: []Op{mk("/p/a")}, path: "/p",
			want: znode.Stat{Czxid: 10, Mzxid: 10, Ctime: 10000, Mtime: 10000, Pzxid: 11, DataLength: 1, Cversion: 1, NumChildren: 1},
		},
		{
			name: "second child: cversion 2*2-2",
			tx:   txAt(12), ops: []Op{mk("/p/b")}, path: "/p",
			want: znode.Stat{Czxid: 10, Mzxid: 10, Ctime: 10000, Mtime: 10000, Pzxid: 12, DataLength: 1, Cversion: 2, NumChildren: 2},
		},
		{
			name: "child delete: client cversion still rises (2*2-1), pzxid moves",
			tx:   txAt(13), ops: []Op{Delete{Path: "/p/a", Version: -1}}, path: "/p",
			want: znode.Stat{Czxid: 10, Mzxid: 10, Ctime: 10000, Mtime: 10000, Pzxid: 13, DataLength: 1, Cversion: 3, NumChildren: 1},
		},
		{
			name: "setData moves mzxid mtime version and data length only",
			tx:   txAt(14), ops: []Op{SetData{Path: "/p", Data: []byte("hello"), Version: 0}}, path: "/p",
			want: znode.Stat{Czxid: 10, Mzxid: 14, Ctime: 10000, Mtime: 14000, Pzxid: 13, DataLength: 5, Version: 1, Cversion: 3, NumChildren: 1},
		},
		{
			name: "setACL moves aversion only",
			tx:   txAt(15), ops: []Op{SetACL{Path: "/p", ACL: znode.OpenACLUnsafe, Version: 0}}, path: "/p",
			want: znode.Stat{Czxid: 10, Mzxid: 14, Ctime: 10000, Mtime: 14000, Pzxid: 13, DataLength: 5, Version: 1, Cversion: 3, Aversion: 1, NumChildren: 1},
		},
		{
			name: "null data has length 0",
			tx:   txAt(16), ops: []Op{SetData{Path: "/p", Data: nil, Version: -1}}, path: "/p",
			want: znode.Stat{Czxid: 10, Mzxid: 16, Ctime: 10000, Mtime: 16000, Pzxid: 13, DataLength: 0, Version: 2, Cversion: 3, Aversion: 1, NumChildren: 1},
		},
		{
			name: "ephemeral reports its session",
			tx:   txAt(17), ops: []Op{mkMode("/p/e", znode.ModeEphemeral)}, path: "/p/e",
			want: znode.Stat{Czxid: 17, Mzxid: 17, Ctime: 17000, Mtime: 17000, Pzxid: 17, DataLength: 1, EphemeralOwner: sess},
		},
		{
			name: "container reports ephemeralOwner 0",
			tx:   txAt(18), ops: []Op{mkMode("/p/c", znode.ModeContainer)}, path: "/p/c",
			want: znode.Stat{Czxid: 18, Mzxid: 18, Ctime: 18000, Mtime: 18000, Pzxid: 18, DataLength: 1},
		},
		{
			name: "TTL node reports ephemeralOwner 0",
			tx:   Txn{Zxid: 19, Time: 19000, ExtendedTypes: true},
			ops:  []Op{Create{Path: "/p/t", Data: []byte{}, ACL: openACL, Mode: znode.ModePersistentWithTTL, TTL: 500}},
			path: "/p/t",
			want: znode.Stat{Czxid: 19, Mzxid: 19, Ctime: 19000, Mtime: 19000, Pzxid: 19},
		},
	}
	for _, s := range steps {
		out := tr.Apply(s.tx, s.ops...)
		if out.Err != nil {
			t.Fatalf("%s: %v", s.name, out.Err)
		}
		if got := mustStat(t, tr, s.path); got != s.want {
			t.Errorf("%s: stat(%s) =\n\t%+v\nwant\n\t%+v", s.name, s.path, got, s.want)
		}
		checkInvariants(t, tr)
	}
}

func TestResultStat(t *testing.T) {
	tr := New()
	out := mustApply(t, tr, txAt(5), mk("/x"))
	if want := mustStat(t, tr, "/x"); out.Results[0].Stat != want || out.Results[0].Path != "/x" {
		t.Errorf("create result = %+v, want path /x and stat %+v", out.Results[0], want)
	}
	out = mustApply(t, tr, txAt(6), SetData{Path: "/x", Data: []byte("abc"), Version: 0})
	if want := mustStat(t, tr, "/x"); out.Results[0].Stat != want {
		t.Errorf("setData result stat = %+v, want %+v", out.Results[0].Stat, want)
	}
}

func TestStoredCountersAndMarkers(t *testing.T) {
	tr := New()
	tx := txAt(3)
	tx.ExtendedTypes = true
	out := mustApply(t, tr, tx,
		mkMode("/c", znode.ModeContainer),
		Create{Path: "/t", ACL: openACL, Mode: znode.ModePersistentSequentialWithTTL, TTL: 12345},
		mkMode("/e", znode.ModeEphemeralSequential),
		mk("/c/1"), mk("/c/2"), Delete{Path: "/c/1", Version: -1},
	)
	stored := map[string]int64{}
	cversion := map[string]int32{}
	for _, n := range out.Batch.Puts {
		stored[n.Path] = n.EphemeralOwner
		cversion[n.Path] = n.Cversion
	}
	tests := []struct {
		name      string
		path      string
		wantOwner int64
	}{
		{"container marker", "/c", znode.ContainerOwner},
		{"TTL marker with ttl", "/t0000000001", znode.TTLOwnerMask | 12345},
		{"ephemeral session", "/e0000000002", sess},
		{"persistent", "/c/2", 0},
	}
	for _, tc := range tests {
		got, ok := stored[tc.path]
		if !ok {
			t.Errorf("%s: %s not in batch puts %v", tc.name, tc.path, out.Batch.Puts)
			continue
		}
		if got != tc.wantOwner {
			t.Errorf("%s: stored ephemeralOwner of %s = %#x, want %#x", tc.name, tc.path, uint64(got), uint64(tc.wantOwner))
		}
	}
	if cversion["/c"] != 2 {
		t.Errorf("stored cversion of /c = %d, want 2 (creates only, deletes do not count)", cversion["/c"])
	}
	if st := mustStat(t, tr, "/c"); st.Cversion != 3 {
		t.Errorf("client cversion of /c = %d, want 2*2-1 = 3", st.Cversion)
	}
	if _, ok := stored["/c/1"]; ok {
		t.Errorf("/c/1 created and deleted in one txn is in Puts")
	}
	if !reflect.DeepEqual(out.Batch.Deletes, []string{"/c/1"}) {
		t.Errorf("Deletes = %q, want [/c/1]", out.Batch.Deletes)
	}
	if out.Batch.Zxid != 3 {
		t.Errorf("Batch.Zxid = %d, want 3", out.Batch.Zxid)
	}
}

func TestSequentialNames(t *testing.T) {
	tests := []struct {
		name     string
		parent   string
		counter  int32 // stored create counter of the parent before the op
		pathArg  string
		mode     znode.CreateMode
		wantPath string
		wantErr  error
	}{
		{"first child", "/p", 0, "/p/n-", znode.ModePersistentSequential, "/p/n-0000000000", nil},
		{"counter includes non-sequential creates", "/p", 7, "/p/n-", znode.ModeEphemeralSequential, "/p/n-0000000007", nil},
		{"trailing slash allowed for sequential", "/p", 42, "/p/", znode.ModePersistentSequential, "/p/0000000042", nil},
		{"trailing slash refused for persistent", "/p", 42, "/p/", znode.ModePersistent, "", znode.ErrBadArguments},
		{"root sequential", "/", 3, "/", znode.ModePersistentSequential, "/0000000003", nil},
		{"ten digits at max", "/p", math.MaxInt32, "/p/x", znode.ModePersistentSequential, "/p/x2147483647", nil},
		{"negative after wrap", "/p", math.MinInt32, "/p/x", znode.ModePersistentSequential, "/p/x-2147483648", nil},
		{"minus one padded", "/p", -1, "/p/x", znode.ModePersistentSequential, "/p/x-000000001", nil},
		{"suffix then full validation", "/p", 0, "/p/\u0001", znode.ModePersistentSequential, "", znode.ErrBadArguments},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := New()
			if tc.parent != "/" {
				mustApply(t, tr, txAt(1), mk(tc.parent))
			}
			tr.nodes[tc.parent].cversion = tc.counter
			c := mkMode(tc.pathArg, tc.mode)
			out := tr.Apply(txAt(2), c)
			if !errors.Is(out.Err, tc.wantErr) || (tc.wantErr == nil && out.Err != nil) {
				t.Fatalf("error = %v, want %v", out.Err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			if out.Results[0].Path != tc.wantPath {
				t.Errorf("created %q, want %q", out.Results[0].Path, tc.wantPath)
			}
			if _, _, ok := tr.Stat(tc.wantPath); !ok {
				t.Errorf("%q does not exist after create", tc.wantPath)
			}
			if got := tr.nodes[tc.parent].cversion; got != tc.counter+1 {
				t.Errorf("parent counter = %d, want %d (wrapping as int32)", got, tc.counter+1)
			}
			checkInvariants(t, tr)
		})
	}
}

func TestSequentialCounterNotDecrementedByDelete(t *testing.T) {
	tr := New()
	mustApply(t, tr, txAt(1), mk("/q"))
	var names []string
	for i := int64(0); i < 3; i++ {
		out := mustApply(t, tr, txAt(2+i), mkMode("/q/s", znode.ModePersistentSequential))
		names = append(names, out.Results[0].Path)
		mustApply(t, tr, txAt(10+i), Delete{Path: out.Results[0].Path, Version: -1})
	}
	want := []string{"/q/s0000000000", "/q/s0000000001", "/q/s0000000002"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}
}

func TestAppendSeqMatchesPrintf(t *testing.T) {
	for _, v := range []int32{0, 1, 9, 10, 123456789, 1234567890, math.MaxInt32, -1, -9, -10, -123456789, -999999999, -1000000000, math.MinInt32} {
		if got, want := string(appendSeq(nil, v)), fmt.Sprintf("%010d", v); got != want {
			t.Errorf("appendSeq(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestCreateErrorOrder(t *testing.T) {
	long := "/" + strings.Repeat("x", 1<<20)
	tests := []struct {
		name     string
		create   Create
		tx       func(*Txn)
		wantErr  error
		wantPath string
	}{
		{"invalid mode before everything", Create{Path: "bad", Mode: 7, TTL: 5}, nil, znode.ErrBadArguments, ""},
		{"negative mode", Create{Path: "/x", ACL: openACL, Mode: -1, TTL: -1}, nil, znode.ErrBadArguments, ""},
		{"TTL disabled before TTL range", Create{Path: "bad", Mode: znode.ModePersistentWithTTL, TTL: 0}, func(tx *Txn) { tx.ExtendedTypes = false }, znode.ErrUnimplemented, ""},
		{"TTL zero", Create{Path: "/x", ACL: openACL, Mode: znode.ModePersistentWithTTL, TTL: 0}, nil, znode.ErrBadArguments, ""},
		{"TTL negative", Create{Path: "/x", ACL: openACL, Mode: znode.ModePersistentWithTTL, TTL: -1}, nil, znode.ErrBadArguments, ""},
		{"TTL above max", Create{Path: "/x", ACL: openACL, Mode: znode.ModePersistentSequentialWithTTL, TTL: znode.MaxTTL + 1}, nil, znode.ErrBadArguments, ""},
		{"TTL at max", Create{Path: "/x", ACL: openACL, Mode: znode.ModePersistentWithTTL, TTL: znode.MaxTTL}, nil, nil, "/x"},
		{"ttl 0 with a plain mode", Create{Path: "/x", ACL: openACL, Mode: znode.ModePersistent, TTL: 0}, nil, znode.ErrBadArguments, ""},
		{"ttl with container", Create{Path: "/x", ACL: openACL, Mode: znode.ModeContainer, TTL: 5}, nil, znode.ErrBadArguments, ""},
		{"TTL check before path", Create{Path: "", Mode: znode.ModePersistent, TTL: 3}, nil, znode.ErrBadArguments, ""},
		{"container allowed without extended types", mkMode("/x", znode.ModeContainer), func(tx *Txn) { tx.ExtendedTypes = false }, nil, "/x"},
		{"ephemeral without a session", mkMode("/x", znode.ModeEphemeral), func(tx *Txn) { tx.Session = 0 }, znode.ErrBadArguments, ""},
		{"empty path", mk(""), nil, znode.ErrBadArguments, ""},
		{"no slash", mk("x"), nil, znode.ErrBadArguments, ""},
		{"NUL before ACL", Create{Path: "/a\x00b", TTL: -1}, nil, znode.ErrBadArguments, ""},
		{"empty ACL", mkACL("/x", nil), nil, znode.ErrInvalidACL, ""},
		{"auth ACL without digest auth", mkACL("/x", znode.CreatorAllACL), nil, znode.ErrInvalidACL, ""},
		{"ACL before parent", mkACL("/missing/x", nil), nil, znode.ErrInvalidACL, ""},
		{"missing parent", mk("/missing/x"), nil, znode.ErrNoNode, ""},
		{"parent before full path validation", mk("/missing/x/"), nil, znode.ErrNoNode, ""},
		{"relative segment under missing parent", mk("/a/../b"), nil, znode.ErrNoNode, ""},
		{"parent without CREATE", mk("/nocreate/y"), nil, znode.ErrNoAuth, ""},
		{"NoAuth before NodeExists", mk("/nocreate/x"), nil, znode.ErrNoAuth, ""},
		{"NoAuth before path validation", mk("/nocreate/"), nil, znode.ErrNoAuth, ""},
		{"super may create anywhere", mk("/nocreate/y"), func(tx *Txn) { tx.Auth = []znode.ID{znode.SuperID} }, nil, "/nocreate/y"},
		{"digest parent needs the digest", mk("/secret/y"), nil, znode.ErrNoAuth, ""},
		{"digest parent with the digest", mk("/secret/y"), func(tx *Txn) { tx.Auth = []znode.ID{alice} }, nil, "/secret/y"},
		{"trailing slash persistent", mk("/a/"), nil, znode.ErrBadArguments, ""},
		{"double slash", mk("//"), nil, znode.ErrBadArguments, ""},
		{"dot segment", mk("/a/."), nil, znode.ErrBadArguments, ""},
		{"invalid character", mk("/a/\u0001"), nil, znode.ErrBadArguments, ""},
		{"root exists", mk("/"), nil, znode.ErrNodeExists, ""},
		{"special exists", mk("/zookeeper"), nil, znode.ErrNodeExists, ""},
		{"child of special allowed", mk("/zookeeper/quota/app"), nil, nil, "/zookeeper/quota/app"},
		{"exists", mk("/a/b"), nil, znode.ErrNodeExists, ""},
		{"under ephemeral", mk("/eph/x"), nil, znode.ErrNoChildrenForEphemerals, ""},
		{"sequential under ephemeral", mkMode("/eph/x", znode.ModeEphemeralSequential), nil, znode.ErrNoChildrenForEphemerals, ""},
		{"under container allowed", mk("/cont/x"), nil, nil, "/cont/x"},
		{"under TTL node allowed", mk("/ttl/x"), nil, nil, "/ttl/x"},
		{"auth ACL expanded to digest", mkACL("/x", znode.CreatorAllACL), func(tx *Txn) { tx.Auth = []znode.ID{{Scheme: "ip", ID: "127.0.0.1"}, alice} }, nil, "/x"},
		{"very long name", mk(long), nil, nil, long},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fixture(t)
			before := cloneTree(tr)
			tx := txAt(100)
			tx.ExtendedTypes = true
			if tc.tx != nil {
				tc.tx(&tx)
			}
			out := tr.Apply(tx, tc.create)
			if tc.wantErr == nil {
				if out.Err != nil {
					t.Fatalf("error = %v, want success", out.Err)
				}
				if out.Results[0].Path != tc.wantPath {
					t.Errorf("created %.40q, want %.40q", out.Results[0].Path, tc.wantPath)
				}
				checkInvariants(t, tr)
				return
			}
			if !errors.Is(out.Err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", out.Err, tc.wantErr)
			}
			if !errors.Is(out.Results[0].Err, tc.wantErr) {
				t.Errorf("Results[0].Err = %v, want %v", out.Results[0].Err, tc.wantErr)
			}
			if len(out.Events) != 0 || len(out.Batch.Puts) != 0 || len(out.Batch.Deletes) != 0 {
				t.Errorf("failed create produced events %v / batch %+v", out.Events, out.Batch)
			}
			if !reflect.DeepEqual(before, tr) {
				t.Errorf("failed create changed the tree")
			}
		})
	}
}

func TestCreateACLStored(t *testing.T) {
	tr := New()
	tx := txAt(1)
	tx.Auth = []znode.ID{alice, bob}
	acl := []znode.ACL{{Perms: znode.PermRead, ID: znode.AnyoneID}, {Perms: znode.PermAll, ID: znode.AuthIDs}, {Perms: znode.PermRead, ID: znode.AnyoneID}}
	mustApply(t, tr, tx, mkACL("/x", acl))
	_, got, _ := tr.Stat("/x")
	want := []znode.ACL{{Perms: znode.PermRead, ID: znode.AnyoneID}, {Perms: znode.PermAll, ID: alice}, {Perms: znode.PermAll, ID: bob}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored ACL = %v, want %v (auth expanded, duplicates removed)", got, want)
	}
}

func TestDeleteErrorOrder(t *testing.T) {
	tests := []struct {
		name    string
		op      Op
		auth    []znode.ID
		wantErr error
	}{
		{"root", Delete{Path: "/", Version: 5}, nil, znode.ErrBadArguments},
		{"/zookeeper", Delete{Path: "/zookeeper", Version: -1}, nil, znode.ErrBadArguments},
		{"/zookeeper/quota", Delete{Path: "/zookeeper/quota", Version: -1}, nil, znode.ErrBadArguments},
		{"/zookeeper/config", Delete{Path: "/zookeeper/config", Version: -1}, nil, znode.ErrBadArguments},
		{"empty path", Delete{Path: "", Version: -1}, nil, znode.ErrBadArguments},
		{"no slash", Delete{Path: "a", Version: -1}, nil, znode.ErrBadArguments},
		{"NUL", Delete{Path: "/a\x00", Version: -1}, nil, znode.ErrBadArguments},
		{"missing parent", Delete{Path: "/missing/x", Version: 3}, nil, znode.ErrNoNode},
		{"parent without DELETE", Delete{Path: "/nodelete/x", Version: -1}, nil, znode.ErrNoAuth},
		{"NoAuth before NoNode", Delete{Path: "/nodelete/missing", Version: -1}, nil, znode.ErrNoAuth},
		{"missing node", Delete{Path: "/a/missing", Version: -1}, nil, znode.ErrNoNode},
		{"trailing slash is just missing", Delete{Path: "/a/", Version: -1}, nil, znode.ErrNoNode},
		{"version mismatch", Delete{Path: "/a/b", Version: 1}, nil, znode.ErrBadVersion},
		{"BadVersion before NotEmpty", Delete{Path: "/a", Version: 9}, nil, znode.ErrBadVersion},
		{"not empty", Delete{Path: "/a", Version: 0}, nil, znode.ErrNotEmpty},
		{"exact version", Delete{Path: "/a/b", Version: 0}, nil, nil},
		{"any version", Delete{Path: "/a/b", Version: -1}, nil, nil},
		{"node ACL is irrelevant", Delete{Path: "/noread", Version: -1}, nil, nil},
		{"ephemeral", Delete{Path: "/eph", Version: -1}, nil, nil},
		{"super ignores ACL", Delete{Path: "/nodelete/x", Version: -1}, []znode.ID{znode.SuperID}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fixture(t)
			before := cloneTree(tr)
			tx := txAt(100)
			tx.Auth = tc.auth
			out := tr.Apply(tx, tc.op)
			if tc.wantErr == nil {
				if out.Err != nil {
					t.Fatalf("error = %v, want success", out.Err)
				}
				p := tc.op.(Delete).Path
				if _, _, ok := tr.Stat(p); ok {
					t.Errorf("%s still exists", p)
				}
				checkInvariants(t, tr)
				return
			}
			if !errors.Is(out.Err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", out.Err, tc.wantErr)
			}
			if !reflect.DeepEqual(before, tr) {
				t.Errorf("failed delete changed the tree")
			}
		})
	}
}

func TestDeleteContainer(t *testing.T) {
	tests := []struct {
		name    string
		setup   []Op
		path    string
		wantErr error
	}{
		{"empty container", []Op{mkMode("/c2", znode.ModeContainer)}, "/c2", nil},
		{"container with children", nil, "/cont", znode.ErrNotEmpty},
		{"TTL node", nil, "/ttl", nil},
		{"normal ephemeral is BadVersion", nil, "/eph", znode.ErrBadVersion},
		{"plain persistent is not refused", nil, "/a/b", nil},
		{"no ACL check on the parent", nil, "/nodelete/x", nil},
		{"missing", nil, "/gone", znode.ErrNoNode},
		{"special", nil, "/zookeeper", znode.ErrBadArguments},
		{"root", nil, "/", znode.ErrBadArguments},
		{"no slash", nil, "x", znode.ErrBadArguments},
		{"NotEmpty before BadVersion check", nil, "/a", znode.ErrNotEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fixture(t)
			if len(tc.setup) > 0 {
				mustApply(t, tr, txAt(50), tc.setup...)
			}
			before := cloneTree(tr)
			out := tr.Apply(txAt(100), DeleteContainer{Path: tc.path})
			if tc.wantErr != nil {
				if !errors.Is(out.Err, tc.wantErr) {
					t.Fatalf("error = %v, want %v", out.Err, tc.wantErr)
				}
				if !reflect.DeepEqual(before, tr) {
					t.Errorf("failed deleteContainer changed the tree")
				}
				return
			}
			if out.Err != nil {
				t.Fatalf("error = %v", out.Err)
			}
			parent, _ := splitPath(tc.path)
			want := []string{"NodeDeleted " + tc.path, "NodeChildrenChanged " + parent}
			if got := eventStrings(out.Events); !reflect.DeepEqual(got, want) {
				t.Errorf("events = %q, want %q", got, want)
			}
			checkInvariants(t, tr)
		})
	}
}

func TestSetDataErrorOrder(t *testing.T) {
	tests := []struct {
		name        string
		op          SetData
		wantErr     error
		wantVersion int32
	}{
		{"empty path", SetData{Path: "", Version: -1}, znode.ErrBadArguments, 0},
		{"trailing slash", SetData{Path: "/a/", Version: -1}, znode.ErrBadArguments, 0},
		{"bad path before NoNode", SetData{Path: "/missing/.", Version: -1}, znode.ErrBadArguments, 0},
		{"missing", SetData{Path: "/missing", Version: -1}, znode.ErrNoNode, 0},
		{"no WRITE", SetData{Path: "/nowrite", Version: -1}, znode.ErrNoAuth, 0},
		{"NoAuth before BadVersion", SetData{Path: "/nowrite", Version: 7}, znode.ErrNoAuth, 0},
		{"digest node without the digest", SetData{Path: "/secret", Version: -1}, znode.ErrNoAuth, 0},
		{"version mismatch", SetData{Path: "/a", Version: 1}, znode.ErrBadVersion, 0},
		{"exact version", SetData{Path: "/a", Data: []byte("v"), Version: 0}, nil, 1},
		{"any version", SetData{Path: "/a", Data: []byte("v"), Version: -1}, nil, 1},
		{"root is writable", SetData{Path: "/", Data: []byte("v"), Version: -1}, nil, 1},
		{"config is not writable", SetData{Path: "/zookeeper/config", Version: -1}, znode.ErrNoAuth, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fixture(t)
			before := cloneTree(tr)
			out := tr.Apply(txAt(100), tc.op)
			if tc.wantErr != nil {
				if !errors.Is(out.Err, tc.wantErr) {
					t.Fatalf("error = %v, want %v", out.Err, tc.wantErr)
				}
				if !reflect.DeepEqual(before, tr) {
					t.Errorf("failed setData changed the tree")
				}
				return
			}
			if out.Err != nil {
				t.Fatalf("error = %v", out.Err)
			}
			if st := mustStat(t, tr, tc.op.Path); st.Version != tc.wantVersion {
				t.Errorf("version = %d, want %d", st.Version, tc.wantVersion)
			}
			checkInvariants(t, tr)
		})
	}
}

func TestVersionWrap(t *testing.T) {
	tests := []struct {
		name string
		from int32
		want int32
	}{
		{"normal", 4, 5},
		{"int32 overflow goes negative", math.MaxInt32, math.MinInt32},
		{"skips -1", -2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := New()
			mustApply(t, tr, txAt(1), mk("/v"))
			tr.nodes["/v"].version = tc.from
			tr.nodes["/v"].aversion = tc.from
			mustApply(t, tr, txAt(2), SetData{Path: "/v", Version: tc.from}, SetACL{Path: "/v", ACL: openACL, Version: tc.from})
			st := mustStat(t, tr, "/v")
			if st.Version != tc.want || st.Aversion != tc.want {
				t.Errorf("version, aversion = %d, %d; want %d", st.Version, st.Aversion, tc.want)
			}
		})
	}
}

func TestSetACLErrorOrder(t *testing.T) {
	tests := []struct {
		name         string
		op           SetACL
		auth         []znode.ID
		wantErr      error
		wantAversion int32
	}{
		{"bad path before bad ACL", SetACL{Path: "x", ACL: nil, Version: -1}, nil, znode.ErrBadArguments, 0},
		{"bad ACL before NoNode", SetACL{Path: "/missing", ACL: nil, Version: -1}, nil, znode.ErrInvalidACL, 0},
		{"invalid ip id", SetACL{Path: "/a", ACL: []znode.ACL{{Perms: 1, ID: znode.ID{Scheme: "ip", ID: "nope"}}}, Version: -1}, nil, znode.ErrInvalidACL, 0},
		{"missing", SetACL{Path: "/missing", ACL: openACL, Version: -1}, nil, znode.ErrNoNode, 0},
		{"no ADMIN", SetACL{Path: "/noadmin", ACL: openACL, Version: -1}, nil, znode.ErrNoAuth, 0},
		{"NoAuth before BadVersion", SetACL{Path: "/noadmin", ACL: openACL, Version: 5}, nil, znode.ErrNoAuth, 0},
		{"checks aversion not version", SetACL{Path: "/nocreate", ACL: openACL, Version: 0}, nil, znode.ErrBadVersion, 0},
		{"aversion matches", SetACL{Path: "/nocreate", ACL: openACL, Version: 1}, nil, nil, 2},
		{"any version", SetACL{Path: "/a", ACL: openACL, Version: -1}, nil, nil, 1},
		{"config has aversion -1", SetACL{Path: "/zookeeper/config", ACL: openACL, Version: -1}, []znode.ID{znode.SuperID}, nil, 0},
		{"config without ADMIN", SetACL{Path: "/zookeeper/config", ACL: openACL, Version: -1}, nil, znode.ErrNoAuth, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fixture(t)
			before := cloneTree(tr)
			tx := txAt(100)
			tx.Auth = tc.auth
			out := tr.Apply(tx, tc.op)
			if tc.wantErr != nil {
				if !errors.Is(out.Err, tc.wantErr) {
					t.Fatalf("error = %v, want %v", out.Err, tc.wantErr)
				}
				if !reflect.DeepEqual(before, tr) {
					t.Errorf("failed setACL changed the tree")
				}
				return
			}
			if out.Err != nil {
				t.Fatalf("error = %v", out.Err)
			}
			if len(out.Events) != 0 {
				t.Errorf("setACL produced events %v; it must fire no watches", eventStrings(out.Events))
			}
			st, acl, _ := tr.Stat(tc.op.Path)
			if st.Aversion != tc.wantAversion {
				t.Errorf("aversion = %d, want %d", st.Aversion, tc.wantAversion)
			}
			if !reflect.DeepEqual(acl, tc.op.ACL) {
				t.Errorf("ACL = %v, want %v", acl, tc.op.ACL)
			}
		})
	}
}

func TestCheckInMulti(t *testing.T) {
	tests := []struct {
		name    string
		check   Check
		wantErr error
	}{
		{"bad path", Check{Path: "/a/", Version: -1}, znode.ErrBadArguments},
		{"missing", Check{Path: "/missing", Version: -1}, znode.ErrNoNode},
		{"no READ", Check{Path: "/noread", Version: 0}, znode.ErrNoAuth},
		{"NoAuth before BadVersion", Check{Path: "/noread", Version: 3}, znode.ErrNoAuth},
		{"version mismatch", Check{Path: "/a", Version: 2}, znode.ErrBadVersion},
		{"version matches", Check{Path: "/a", Version: 0}, nil},
		{"any version means exists", Check{Path: "/a/b", Version: -1}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fixture(t)
			out := tr.Apply(txAt(100), tc.check, mk("/after"))
			if !errors.Is(out.Err, tc.wantErr) || (tc.wantErr == nil && out.Err != nil) {
				t.Fatalf("error = %v, want %v", out.Err, tc.wantErr)
			}
			_, _, created := tr.Stat("/after")
			if created != (tc.wantErr == nil) {
				t.Errorf("/after exists = %v, want %v", created, tc.wantErr == nil)
			}
			if tc.wantErr == nil {
				want := []string{"NodeCreated /after", "NodeChildrenChanged /"}
				if got := eventStrings(out.Events); !reflect.DeepEqual(got, want) {
					t.Errorf("events = %q, want %q (check fires nothing)", got, want)
				}
			}
		})
	}
}

func TestEvents(t *testing.T) {
	parentACL := []znode.ACL{{Perms: znode.PermAll, ID: alice}}
	childACL := []znode.ACL{{Perms: znode.PermRead, ID: bob}, {Perms: znode.PermAll, ID: alice}}
	tests := []struct {
		name string
		ops  []Op
		want []znode.Event
	}{
		{
			name: "create top-level: node then root",
			ops:  []Op{mk("/n")},
			want: []znode.Event{
				{Type: znode.EventNodeCreated, Path: "/n", Data: []byte("d"), ACL: openACL},
				// Version of a NodeChildrenChanged is the client-visible
				// cversion: 2 creates (/p, /n) * 2 - 3 children.
				{Type: znode.EventNodeChildrenChanged, Path: "/", Version: 1, ACL: openACL},
			},
		},
		{
			name: "create carries node ACL, then parent ACL",
			ops:  []Op{mkACL("/p/c", childACL)},
			want: []znode.Event{
				{Type: znode.EventNodeCreated, Path: "/p/c", Data: []byte("d"), ACL: childACL},
				{Type: znode.EventNodeChildrenChanged, Path: "/p", Version: 2, ACL: parentACL},
			},
		},
		{
			name: "delete: node then parent",
			ops:  []Op{Delete{Path: "/p/old", Version: -1}},
			want: []znode.Event{
				{Type: znode.EventNodeDeleted, Path: "/p/old", ACL: childACL},
				{Type: znode.EventNodeChildrenChanged, Path: "/p", Version: 2, ACL: parentACL},
			},
		},
		{
			name: "setData",
			ops:  []Op{SetData{Path: "/p/old", Data: []byte("x"), Version: -1}},
			want: []znode.Event{{Type: znode.EventNodeDataChanged, Path: "/p/old", Version: 1, Data: []byte("x"), ACL: childACL}},
		},
		{
			name: "setACL and check fire nothing",
			ops:  []Op{SetACL{Path: "/p/old", ACL: openACL, Version: -1}, Check{Path: "/p", Version: -1}},
			want: nil,
		},
		{
			name: "multi in op order with one zxid, ACLs as of each op",
			ops: []Op{
				mk("/m"),
				SetData{Path: "/p/old", Version: -1},
				SetACL{Path: "/p/old", ACL: openACL, Version: -1},
				Delete{Path: "/p/old", Version: -1},
				mkMode("/m/s", znode.ModePersistentSequential),
			},
			want: []znode.Event{
				{Type: znode.EventNodeCreated, Path: "/m", Data: []byte("d"), ACL: openACL},
				{Type: znode.EventNodeChildrenChanged, Path: "/", Version: 1, ACL: openACL},
				{Type: znode.EventNodeDataChanged, Path: "/p/old", Version: 1, ACL: childACL},
				{Type: znode.EventNodeDeleted, Path: "/p/old", Version: 1, ACL: openACL},
				{Type: znode.EventNodeChildrenChanged, Path: "/p", Version: 2, ACL: parentACL},
				{Type: znode.EventNodeCreated, Path: "/m/s0000000000", Data: []byte("d"), ACL: openACL},
				{Type: znode.EventNodeChildrenChanged, Path: "/m", Version: 1, ACL: openACL},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := New()
			setup := txAt(1)
			setup.Auth = []znode.ID{alice}
			mustApply(t, tr, setup, mkACL("/p", parentACL), mkACL("/p/old", childACL))
			tx := txAt(77)
			tx.Auth = []znode.ID{alice}
			out := mustApply(t, tr, tx, tc.ops...)
			for i := range tc.want {
				tc.want[i].Zxid = 77
				tc.want[i].Time = tx.Time
			}
			if len(out.Events) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(out.Events, tc.want) {
				t.Errorf("events =\n\t%+v\nwant\n\t%+v", out.Events, tc.want)
			}
		})
	}
}

func TestFailedMultiLeavesTreeUnchanged(t *testing.T) {
	boom := Check{Path: "/a", Version: 99}
	tests := []struct {
		name    string
		ops     []Op
		failAt  int
		wantErr error
	}{
		{"create then fail", []Op{mk("/n1"), mk("/n1/n2"), boom}, 2, znode.ErrBadVersion},
		{"fail first, rest not run", []Op{boom, mk("/n1"), mk("/n2")}, 0, znode.ErrBadVersion},
		{"sequential, setData, delete, then fail", []Op{
			mkMode("/a/s", znode.ModePersistentSequential),
			SetData{Path: "/a", Data: nil, Version: 0},
			Delete{Path: "/a/b", Version: -1},
			SetData{Path: "/a", Data: []byte("much longer data"), Version: 1},
			boom,
		}, 4, znode.ErrBadVersion},
		{"ephemeral for a fresh session index, then fail", []Op{mkMode("/e1", znode.ModeEphemeral), mkMode("/e2", znode.ModeEphemeralSequential), mk("/missing/x")}, 2, znode.ErrNoNode},
		{"delete last ephemeral of a session, then fail", []Op{Delete{Path: "/eph", Version: -1}, mk("/eph"), mk("/missing/x")}, 2, znode.ErrNoNode},
		{"delete and recreate, then fail", []Op{Delete{Path: "/a/b", Version: 0}, mkACL("/a/b", znode.ReadACLUnsafe), mk("/a/b")}, 2, znode.ErrNodeExists},
		{"setACL then fail", []Op{SetACL{Path: "/a", ACL: znode.ReadACLUnsafe, Version: 0}, SetData{Path: "/a", Version: -1}}, 1, znode.ErrNoAuth},
		{"container and TTL then fail", []Op{
			mkMode("/c2", znode.ModeContainer),
			Create{Path: "/t2", ACL: openACL, Mode: znode.ModePersistentWithTTL, TTL: 9},
			DeleteContainer{Path: "/ttl"},
			DeleteContainer{Path: "/cont"},
		}, 3, znode.ErrNotEmpty},
		{"first child of a childless node, then fail", []Op{mk("/a/b/c"), mk("/a/b/c/d"), Delete{Path: "/a/b/c", Version: -1}}, 2, znode.ErrNotEmpty},
		{"delete every child then fail", []Op{Delete{Path: "/cont/c", Version: -1}, DeleteContainer{Path: "/cont"}, boom}, 2, znode.ErrBadVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fixture(t)
			before := cloneTree(tr)
			tx := txAt(100)
			tx.ExtendedTypes = true
			out := tr.Apply(tx, tc.ops...)
			if !errors.Is(out.Err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", out.Err, tc.wantErr)
			}
			if !reflect.DeepEqual(before, tr) {
				t.Fatalf("failed multi changed the tree")
			}
			checkInvariants(t, tr)
			if len(out.Results) != len(tc.ops) {
				t.Fatalf("%d results for %d ops", len(out.Results), len(tc.ops))
			}
			for i, r := range out.Results {
				switch {
				case i < tc.failAt && r != (Result{}):
					t.Errorf("result %d = %+v, want a zero result (error code 0)", i, r)
				case i == tc.failAt && !errors.Is(r.Err, tc.wantErr):
					t.Errorf("result %d error = %v, want %v", i, r.Err, tc.wantErr)
				case i > tc.failAt && !errors.Is(r.Err, znode.ErrRuntimeInconsistency):
					t.Errorf("result %d error = %v, want RuntimeInconsistency", i, r.Err)
				}
			}
			if out.Events != nil {
				t.Errorf("failed multi produced events %v", eventStrings(out.Events))
			}
			if !out.Batch.Empty() || out.Batch.Zxid != 100 {
				t.Errorf("failed multi batch = %+v, want empty with zxid 100", out.Batch)
			}
			// The tree still works as before: a sequential create gets the
			// name it would have had without the failed multi.
			got := mustApply(t, tr, txAt(101), mkMode("/a/s", znode.ModePersistentSequential)).Results[0].Path
			if got != "/a/s0000000001" {
				t.Errorf("next sequential name = %q, want /a/s0000000001", got)
			}
		})
	}
}

func TestMultiSuccess(t *testing.T) {
	tr := fixture(t)
	out := mustApply(t, tr, txAt(100),
		mk("/m"),
		mkMode("/m/s-", znode.ModePersistentSequential),
		SetData{Path: "/m", Data: []byte("xy"), Version: 0},
		Check{Path: "/m", Version: 1},
		Delete{Path: "/a/b", Version: 0},
		mk("/a/b"),
		Delete{Path: "/eph", Version: -1},
	)
	wantPaths := []string{"/m", "/m/s-0000000000", "/m", "/m", "/a/b", "/a/b", "/eph"}
	for i, r := range out.Results {
		if r.Err != nil || r.Path != wantPaths[i] {
			t.Errorf("result %d = %+v, want path %s and no error", i, r, wantPaths[i])
		}
	}
	if out.Results[2].Stat.Version != 1 || out.Results[2].Stat.DataLength != 2 {
		t.Errorf("setData result stat = %+v, want version 1, length 2", out.Results[2].Stat)
	}
	puts := map[string]bool{}
	for _, n := range out.Batch.Puts {
		if puts[n.Path] {
			t.Errorf("path %s put twice", n.Path)
		}
		puts[n.Path] = true
	}
	for _, p := range []string{"/", "/m", "/m/s-0000000000", "/a", "/a/b"} {
		if !puts[p] {
			t.Errorf("batch lacks put of %s: %+v", p, out.Batch.Puts)
		}
	}
	if !reflect.DeepEqual(out.Batch.Deletes, []string{"/eph"}) {
		t.Errorf("Deletes = %q, want [/eph]", out.Batch.Deletes)
	}
	if tr.EphemeralCount() != 0 {
		t.Errorf("EphemeralCount = %d, want 0", tr.EphemeralCount())
	}
	checkInvariants(t, tr)
}

func TestEmptyMulti(t *testing.T) {
	tr := New()
	before := cloneTree(tr)
	out := tr.Apply(txAt(5))
	if out.Err != nil || len(out.Results) != 0 || len(out.Events) != 0 || !out.Batch.Empty() || out.Batch.Zxid != 5 {
		t.Errorf("empty multi = %+v", out)
	}
	if !reflect.DeepEqual(before, tr) {
		t.Errorf("empty multi changed the tree")
	}
}

func TestPointerAndNilOps(t *testing.T) {
	tr := New()
	c := mk("/ptr")
	out := tr.Apply(txAt(1), &c, &SetData{Path: "/ptr", Version: -1}, &Check{Path: "/ptr", Version: 1})
	if out.Err != nil {
		t.Fatalf("pointer ops: %v", out.Err)
	}
	tests := []struct {
		name string
		op   Op
	}{
		{"nil interface", nil},
		{"nil *Create", (*Create)(nil)},
		{"nil *Delete", (*Delete)(nil)},
		{"nil *DeleteContainer", (*DeleteContainer)(nil)},
		{"nil *SetData", (*SetData)(nil)},
		{"nil *SetACL", (*SetACL)(nil)},
		{"nil *Check", (*Check)(nil)},
	}
	for _, tc := range tests {
		if out := tr.Apply(txAt(2), tc.op); !errors.Is(out.Err, znode.ErrBadArguments) {
			t.Errorf("%s: error = %v, want BadArguments", tc.name, out.Err)
		}
	}
}

func TestDataCopied(t *testing.T) {
	tr := New()
	buf := []byte("abc")
	mustApply(t, tr, txAt(1), Create{Path: "/d", Data: buf, ACL: openACL, TTL: -1})
	copy(buf, "XXX")
	if data, _, _ := tr.GetData("/d", nil); string(data) != "abc" {
		t.Errorf("data = %q after the caller reused its buffer, want abc", data)
	}
	buf = []byte("def")
	mustApply(t, tr, txAt(2), SetData{Path: "/d", Data: buf, Version: -1})
	copy(buf, "XXX")
	if data, _, _ := tr.GetData("/d", nil); string(data) != "def" {
		t.Errorf("data = %q after the caller reused its buffer, want def", data)
	}
}

func TestKillSession(t *testing.T) {
	tr := New()
	other := int64(0x2000)
	mustApply(t, tr, txAt(1), mk("/app"), mkMode("/app/lock-", znode.ModeEphemeralSequential), mkMode("/z", znode.ModeEphemeral), mkMode("/app/e", znode.ModeEphemeral))
	tx := txAt(2)
	tx.Session = other
	mustApply(t, tr, tx, mkMode("/app/other", znode.ModeEphemeral))
	if tr.EphemeralCount() != 4 {
		t.Fatalf("EphemeralCount = %d, want 4", tr.EphemeralCount())
	}
	if got := tr.EphemeralOwners(); !reflect.DeepEqual(got, []int64{sess, other}) {
		t.Errorf("EphemeralOwners = %v", got)
	}

	out := tr.KillSession(txAt(9))
	wantEvents := []string{
		"NodeDeleted /app/e", "NodeChildrenChanged /app",
		"NodeDeleted /app/lock-0000000000", "NodeChildrenChanged /app",
		"NodeDeleted /z", "NodeChildrenChanged /",
	}
	if got := eventStrings(out.Events); !reflect.DeepEqual(got, wantEvents) {
		t.Errorf("events =\n\t%s\nwant\n\t%s", joinLines(got), joinLines(wantEvents))
	}
	for _, e := range out.Events {
		if e.Zxid != 9 {
			t.Errorf("event %v has zxid %d, want 9", e, e.Zxid)
		}
	}
	if len(out.Results) != 3 || out.Err != nil {
		t.Errorf("results = %+v, err %v", out.Results, out.Err)
	}
	if got := tr.SessionEphemerals(sess); len(got) != 0 {
		t.Errorf("session still owns %q", got)
	}
	if got := tr.SessionEphemerals(other); !reflect.DeepEqual(got, []string{"/app/other"}) {
		t.Errorf("other session owns %q, want [/app/other]", got)
	}
	if st := mustStat(t, tr, "/app"); st.Pzxid != 9 || st.NumChildren != 1 {
		t.Errorf("/app stat = %+v, want pzxid 9 and 1 child", st)
	}
	if !reflect.DeepEqual(out.Batch.Deletes, []string{"/app/e", "/app/lock-0000000000", "/z"}) {
		t.Errorf("batch deletes = %q", out.Batch.Deletes)
	}
	if out.Batch.Zxid != 9 || len(out.Batch.Puts) != 2 {
		t.Errorf("batch = %+v, want zxid 9 and puts of /app and /", out.Batch)
	}
	checkInvariants(t, tr)

	if out := tr.KillSession(txAt(10)); len(out.Events) != 0 || !out.Batch.Empty() {
		t.Errorf("second kill = %+v, want nothing", out)
	}
}

// TestOddPathsNeverPanic runs every operation and read on hostile paths.
func TestOddPathsNeverPanic(t *testing.T) {
	paths := []string{
		"", "/", "//", "///", "a", "a/", "/a/../b", "/a/./b", "/.", "/..", "/a/",
		"\x00", "/\x00", "/a\x00b", "/\xff\xfe", "/\u0001", "/\ud7ff", "/\U0001F600",
		"/" + strings.Repeat("n", 70000), strings.Repeat("/x", 5000),
		"/zookeeper/", "/zookeeper//config",
	}
	tr := fixture(t)
	for _, p := range paths {
		for _, mode := range []znode.CreateMode{0, 1, 2, 3, 4, 5, 6, 7, -3} {
			for _, ttl := range []int64{-1, 0, 1, znode.MaxTTL + 1} {
				tx := txAt(200)
				tx.ExtendedTypes = true
				tr.Apply(tx, Create{Path: p, Mode: mode, TTL: ttl, ACL: openACL})
			}
		}
		tr.Apply(txAt(201), Delete{Path: p, Version: -1})
		tr.Apply(txAt(202), DeleteContainer{Path: p})
		tr.Apply(txAt(203), SetData{Path: p, Version: -1})
		tr.Apply(txAt(204), SetACL{Path: p, ACL: openACL, Version: -1})
		tr.Apply(txAt(205), Check{Path: p, Version: -1})
		tr.GetData(p, nil)
		tr.Exists(p, nil)
		tr.Children(p, nil)
		tr.GetACL(p, nil)
		tr.AllChildrenNumber(p, nil)
		tr.Ephemerals(sess, p)
		tr.Stat(p)
	}
	checkInvariants(t, tr)
}

// FuzzApply checks that no single op or multi panics, that a failed
// transaction leaves the tree unchanged and a successful one keeps it
// consistent.
func FuzzApply(f *testing.F) {
	f.Add("/a/x", "/a/b", int32(0), int32(-1), int64(-1), uint8(0))
	f.Add("/p/", "/eph", int32(2), int32(0), int64(-1), uint8(1))
	f.Add("", "//", int32(5), int32(3), int64(10), uint8(2))
	f.Add("/cont/c", "/cont", int32(4), int32(-1), int64(-1), uint8(3))
	f.Fuzz(func(t *testing.T, p1, p2 string, mode, version int32, ttl int64, shape uint8) {
		tr := fixture(t)
		before := cloneTree(tr)
		ops := []Op{
			Create{Path: p1, Data: []byte(p2), ACL: openACL, Mode: znode.CreateMode(mode), TTL: ttl},
			SetData{Path: p2, Data: []byte(p1), Version: version},
			Delete{Path: p2, Version: version},
			DeleteContainer{Path: p1},
			SetACL{Path: p1, ACL: znode.ReadACLUnsafe, Version: version},
			Check{Path: p2, Version: version},
		}
		start := int(shape) % len(ops)
		n := 1 + int(shape>>4)%len(ops)
		var sel []Op
		for i := 0; i < n; i++ {
			sel = append(sel, ops[(start+i)%len(ops)])
		}
		tx := txAt(100)
		tx.ExtendedTypes = shape&8 != 0
		out := tr.Apply(tx, sel...)
		if out.Err != nil && !reflect.DeepEqual(before, tr) {
			t.Fatalf("failed txn %+v changed the tree: %v", sel, out.Err)
		}
		checkInvariants(t, tr)
		tr.GetData(p1, nil)
		tr.AllChildrenNumber(p2, nil)
	})
}
