package tree

import (
	"reflect"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// TestUndoRestoresTheTree applies a run of transactions of every kind and
// undoes them newest first, as the server does when a batch cannot be
// made durable: the tree must be exactly as before, counters included.
func TestUndoRestoresTheTree(t *testing.T) {
	tr := fixture(t)
	checkInvariants(t, tr)
	before := cloneTree(tr)
	eph := txAt(50)
	eph.Session = 77
	var undos []func()
	record := func(out Outcome) {
		t.Helper()
		if out.Err != nil || out.Undo == nil {
			t.Fatalf("transaction failed: %v", out.Err)
		}
		undos = append(undos, out.Undo)
	}
	record(tr.Apply(txAt(40), mk("/u")))
	record(tr.Apply(txAt(41), mkMode("/u/seq-", znode.ModePersistentSequential)))
	record(tr.Apply(txAt(42), SetData{Path: "/u", Data: []byte("new"), Version: -1}))
	record(tr.Apply(eph, mkMode("/u/eph", znode.ModeEphemeral)))
	record(tr.Apply(txAt(44), mk("/v"), mk("/v/w"), Delete{Path: "/v/w", Version: -1}))
	kill := txAt(45)
	kill.Session = 77
	record(tr.KillSession(kill))
	record(tr.Apply(txAt(46), Delete{Path: "/u/seq-0000000000", Version: -1}))
	record(tr.Apply(txAt(48), SetACL{Path: "/u", ACL: znode.ReadACLUnsafe, Version: -1}))
	for i := len(undos) - 1; i >= 0; i-- {
		undos[i]()
		checkInvariants(t, tr)
	}
	if !reflect.DeepEqual(before, tr) {
		t.Fatal("tree after undoing every transaction differs from the tree before them")
	}
	// A failed transaction has nothing to undo.
	if out := tr.Apply(txAt(47), Delete{Path: "/missing", Version: -1}); out.Undo != nil {
		t.Error("failed transaction returned an Undo")
	}
}
