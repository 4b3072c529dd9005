package tree

import (
	"testing"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

func TestBuilderSharesEqualACLs(t *testing.T) {
	b := NewBuilder()
	digest := []znode.ACL{{Perms: znode.PermAll, ID: znode.ID{Scheme: "digest", ID: "u:h"}}}
	for _, sn := range []storage.Node{
		{Path: "/a", ACL: []znode.ACL{{Perms: znode.PermAll, ID: znode.AnyoneID}}},
		{Path: "/a/b", ACL: []znode.ACL{{Perms: znode.PermAll, ID: znode.AnyoneID}}},
		{Path: "/c", ACL: digest},
	} {
		if err := b.Add(sn); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	a, bb, c := tr.nodes["/a"].acl, tr.nodes["/a/b"].acl, tr.nodes["/c"].acl
	if &a[0] != &bb[0] {
		t.Error("equal ACL lists are stored twice")
	}
	if &a[0] == &c[0] || c[0].ID.ID != "u:h" {
		t.Error("different ACL lists were merged")
	}
	// A later setACL on one node leaves the other's ACL alone.
	mustApply(t, tr, txAt(9), SetACL{Path: "/a", ACL: znode.ReadACLUnsafe, Version: -1})
	if got, _, _ := tr.GetACL("/a/b", nil); len(got) != 1 || got[0].Perms != znode.PermAll {
		t.Errorf("setACL on /a changed /a/b's ACL to %v", got)
	}
}
