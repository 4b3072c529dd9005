package tree

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// A snapshot written while transactions keep changing the tree holds
// exactly the nodes of its instant, each once, whatever the changes:
// creates, deletes, re-creates, data and ACL changes, multis and session
// kills, before and after the walk reaches each node.
func TestSnapshotIsTheTreeAtItsInstant(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			tr := New()
			zxid := int64(0)
			apply := func(session int64, ops ...Op) {
				zxid++
				tr.Apply(Txn{Zxid: zxid, Time: zxid, Session: session}, ops...)
			}
			for i := range 50 {
				apply(0, Create{Path: fmt.Sprintf("/d%d", i), ACL: znode.OpenACLUnsafe, TTL: -1})
			}
			for i := range 6000 {
				mode := znode.ModePersistent
				if i%7 == 0 {
					mode = znode.ModeEphemeral
				}
				apply(int64(1+i%5), Create{Path: fmt.Sprintf("/d%d/n%d", i%50, i), Data: []byte{byte(i)}, ACL: znode.OpenACLUnsafe, Mode: mode, TTL: -1})
			}
			want := tr.Nodes()

			var mu sync.Mutex
			mu.Lock()
			snap := tr.StartSnapshot()
			mu.Unlock()
			mutate := func() {
				mu.Lock()
				defer mu.Unlock()
				for range 20 {
					i := rng.Intn(9000)
					p := fmt.Sprintf("/d%d/n%d", i%50, i)
					switch rng.Intn(6) {
					case 0:
						apply(0, Create{Path: p, Data: []byte("new"), ACL: znode.OpenACLUnsafe, TTL: -1})
					case 1:
						apply(0, Delete{Path: p, Version: -1})
					case 2:
						apply(0, SetData{Path: p, Data: []byte(fmt.Sprint(rng.Int())), Version: -1})
					case 3:
						apply(0, SetACL{Path: p, ACL: znode.ReadACLUnsafe, Version: -1})
					case 4:
						apply(0, Delete{Path: p, Version: -1}, Create{Path: p, Data: []byte("again"), ACL: znode.OpenACLUnsafe, TTL: -1})
					case 5:
						if rng.Intn(20) == 0 {
							zxid++
							tr.KillSession(Txn{Zxid: zxid, Session: int64(1 + rng.Intn(5))})
						}
					}
				}
			}
			var got []storage.Node
			err := snap.Each(&mu, func(n storage.Node) error {
				got = append(got, n)
				if len(got)%500 == 0 {
					mutate()
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			mutate() // after the walk: no effect on what was written
			slices.SortFunc(got, func(a, b storage.Node) int { return strings.Compare(a.Path, b.Path) })
			if len(got) != len(want) {
				t.Fatalf("snapshot has %d nodes, the tree had %d at its instant", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("node %s: snapshot %+v, at the instant %+v", want[i].Path, got[i], want[i])
				}
			}
			if tr.snap != nil {
				t.Error("the snapshot is still attached to the tree after Each")
			}
			if reflect.DeepEqual(tr.Nodes(), want) {
				t.Error("the tree did not change during the walk: the test exercised nothing")
			}
		})
	}
}
