package tree

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

const sess = int64(0x1000)

var (
	openACL = znode.OpenACLUnsafe
	alice   = znode.ID{Scheme: "digest", ID: "alice:aGFzaA=="}
	bob     = znode.ID{Scheme: "digest", ID: "bob:Ym9i"}
)

// aclWithout is world:anyone with every permission but the given ones.
func aclWithout(perms int32) []znode.ACL {
	return []znode.ACL{{Perms: znode.PermAll &^ perms, ID: znode.AnyoneID}}
}

func txAt(zxid int64) Txn { return Txn{Zxid: zxid, Time: 1000 * zxid, Session: sess} }

func mk(path string) Create {
	return Create{Path: path, Data: []byte("d"), ACL: openACL, Mode: znode.ModePersistent, TTL: -1}
}

func mkMode(path string, mode znode.CreateMode) Create {
	c := mk(path)
	c.Mode = mode
	return c
}

func mkACL(path string, acl []znode.ACL) Create {
	c := mk(path)
	c.ACL = acl
	return c
}

// mustApply applies ops and fails the test on error.
func mustApply(t testing.TB, tr *Tree, tx Txn, ops ...Op) Outcome {
	t.Helper()
	out := tr.Apply(tx, ops...)
	if out.Err != nil {
		t.Fatalf("Apply(zxid %d, %+v): %v", tx.Zxid, ops, out.Err)
	}
	return out
}

// fixture builds the tree most error tests run against:
//
//	/a, /a/b            plain persistent nodes (version 0)
//	/eph                ephemeral of sess
//	/cont, /cont/c      container with a child
//	/ttl                TTL node, ttl 1000
//	/nocreate           no CREATE for anyone, child /nocreate/x
//	/nodelete           no DELETE for anyone, child /nodelete/x
//	/noread, /nowrite, /noadmin   lacking READ, WRITE, ADMIN
//	/secret             digest alice only, all permissions
func fixture(t testing.TB) *Tree {
	t.Helper()
	tr := New()
	tx := txAt(1)
	tx.ExtendedTypes = true
	ttl := mkMode("/ttl", znode.ModePersistentWithTTL)
	ttl.TTL = 1000
	mustApply(t, tr, tx,
		mk("/a"), mk("/a/b"), mkMode("/eph", znode.ModeEphemeral),
		mkMode("/cont", znode.ModeContainer), mk("/cont/c"), ttl,
		mk("/nocreate"), mk("/nocreate/x"), mk("/nodelete"), mk("/nodelete/x"),
		mkACL("/noread", aclWithout(znode.PermRead)),
		mkACL("/nowrite", aclWithout(znode.PermWrite)),
		mkACL("/noadmin", aclWithout(znode.PermAdmin)),
		mkACL("/secret", []znode.ACL{{Perms: znode.PermAll, ID: alice}}),
	)
	mustApply(t, tr, txAt(2),
		SetACL{Path: "/nocreate", ACL: aclWithout(znode.PermCreate), Version: -1},
		SetACL{Path: "/nodelete", ACL: aclWithout(znode.PermDelete), Version: -1},
	)
	checkInvariants(t, tr)
	return tr
}

// cloneTree deep-copies a tree, keeping nil versus empty everywhere, so
// that reflect.DeepEqual can tell whether anything at all changed.
func cloneTree(tr *Tree) *Tree {
	c := &Tree{
		nodes:      make(map[string]*node, len(tr.nodes)),
		ephemerals: make(map[int64]map[string]struct{}, len(tr.ephemerals)),
		containers: maps.Clone(tr.containers),
		ttls:       maps.Clone(tr.ttls),
		dataSize:   tr.dataSize,
	}
	for p, n := range tr.nodes {
		cn := *n
		if n.data != nil {
			cn.data = slices.Clone(n.data)
		}
		if n.acl != nil {
			cn.acl = slices.Clone(n.acl)
		}
		if n.children != nil {
			cn.children = maps.Clone(n.children)
		}
		c.nodes[p] = &cn
	}
	for id, set := range tr.ephemerals {
		c.ephemerals[id] = maps.Clone(set)
	}
	return c
}

// checkInvariants verifies the tree's internal consistency: links between
// parents and children, the ephemeral/container/TTL indexes and the data
// size counter.
func checkInvariants(t testing.TB, tr *Tree) {
	t.Helper()
	var size int64
	eph := make(map[int64]map[string]struct{})
	cont := make(map[string]struct{})
	ttls := make(map[string]struct{})
	for p, n := range tr.nodes {
		size += nodeSize(p, n)
		if p != "/" {
			parent, name := splitPath(p)
			pn := tr.nodes[parent]
			if pn == nil {
				t.Fatalf("node %q has no parent", p)
			}
			if _, ok := pn.children[name]; !ok {
				t.Fatalf("parent %q does not list child %q", parent, name)
			}
		}
		for name := range n.children {
			if tr.nodes[znode.Join(p, name)] == nil {
				t.Fatalf("%q lists missing child %q", p, name)
			}
		}
		switch kindOf(n.owner) {
		case kindEphemeral:
			if eph[n.owner] == nil {
				eph[n.owner] = make(map[string]struct{})
			}
			eph[n.owner][p] = struct{}{}
		case kindContainer:
			cont[p] = struct{}{}
		case kindTTL:
			ttls[p] = struct{}{}
		}
	}
	if size != tr.dataSize {
		t.Fatalf("dataSize = %d, recomputed %d", tr.dataSize, size)
	}
	if !reflect.DeepEqual(eph, tr.ephemerals) {
		t.Fatalf("ephemeral index %v, nodes say %v", tr.ephemerals, eph)
	}
	if !reflect.DeepEqual(cont, tr.containers) || !reflect.DeepEqual(ttls, tr.ttls) {
		t.Fatalf("container/TTL index %v %v, nodes say %v %v", tr.containers, tr.ttls, cont, ttls)
	}
}

// mustStat returns the client stat of an existing path.
func mustStat(t testing.TB, tr *Tree, path string) znode.Stat {
	t.Helper()
	st, _, ok := tr.Stat(path)
	if !ok {
		t.Fatalf("%q does not exist", path)
	}
	return st
}

func eventStrings(evs []znode.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type.String() + " " + e.Path
	}
	return out
}

func joinLines(s []string) string { return strings.Join(s, "\n\t") }
