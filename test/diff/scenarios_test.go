package diff

import (
	"bytes"
	"errors"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zkx-dev/zkx/pkg/proto"
)

// scenarios are run in this order against both servers. Each works under its own root znode,
// named after it, so they can share one server of each kind. Cases where ZooKeeper 3.8 and
// 3.9 differ visibly are deliberately left out (see README.md).
var scenarios = []scenario{
	{"crud_and_errors", crudAndErrors},
	{"sequential_and_ephemeral", sequentialAndEphemeral},
	{"oneshot_watches", oneshotWatches},
	{"multi", multiOps},
	{"acl_and_auth", aclAndAuth},
	{"session_close", sessionClose},
	{"session_expiry", sessionExpiry},
	{"oversize_data", oversizeData},
	{"zookeeper_tree", zookeeperTree},
	{"raw_reads", rawReads},
}

var (
	worldAll  = zk.WorldACL(zk.PermAll)
	worldRead = zk.WorldACL(zk.PermRead)
)

func crudAndErrors(e *Env) {
	r := e.Root
	c := e.Connect("c1", ConnectOptions{})
	c.Create(r, nil, 0, nil)
	c.Create(r+"/a", []byte("hello"), 0, nil)
	c.Create(r+"/a", []byte("again"), 0, nil)         // NodeExists
	c.Create(r+"/missing/child", []byte("x"), 0, nil) // NoNode
	c.Create("/", nil, 0, nil)                        // NodeExists: the root always exists
	c.Get(r)                                          // created with null data
	c.Create(r+"/empty", []byte{}, 0, nil)
	c.Get(r + "/empty") // empty, not null
	c.Get(r + "/a")
	c.Get(r + "/nope") // NoNode
	c.Set(r+"/a", []byte("v1"), 0)
	c.Set(r+"/a", []byte("v2"), 0) // BadVersion
	c.Set(r+"/a", []byte("v2"), -1)
	c.Set(r+"/a", []byte("v3"), 2)
	c.Set(r+"/nope", []byte("x"), -1) // NoNode
	c.Set(r+"/a", nil, -1)            // data set to null
	c.Get(r + "/a")
	c.Exists(r + "/a")
	c.Exists(r + "/nope")
	c.Create(r+"/a/b", []byte("child"), 0, nil)
	c.Children(r)
	c.Children(r + "/a")
	c.Children(r + "/nope") // NoNode
	c.Delete(r+"/a", -1)    // NotEmpty
	c.Delete(r+"/a/b", 5)   // BadVersion
	c.Delete(r+"/a/b", 0)
	c.Delete(r+"/a/b", -1) // NoNode
	c.Delete(r+"/missing/child", -1)
	c.Exists(r + "/a") // pzxid and cversion after the child's create and delete
	c.Create(r+"/eph", []byte("e"), zk.FlagEphemeral, nil)
	c.Create(r+"/eph/kid", nil, 0, nil)               // NoChildrenForEphemerals
	c.Create(r+"/eph", nil, 0, nil)                   // NodeExists comes first
	c.Create(r+"/eph/kid", nil, zk.FlagSequence, nil) // NoChildrenForEphemerals
	c.Delete("/zookeeper", -1)                        // BadArguments: special path
	c.Delete("/zookeeper/quota", -1)                  // BadArguments: special path
	c.Delete("/zookeeper/config", -1)                 // BadArguments: special path
	c.Create(r+"/big-name-"+string(bytes.Repeat([]byte("n"), 200)), nil, 0, nil)
	c.Sync(r)
	// Paths go-zookeeper would reject before sending can still be sent inside a multi.
	// A bad path under a missing parent is NoNode (the parent is looked up first); under an
	// existing parent it is BadArguments.
	for _, bad := range []string{r + "//x", r + "/./x", r + "/x/", "no-slash", r + "/", r + "/.", r + "/a/..", r + "/a/./b"} {
		c.Multi("create "+bad, &zk.CreateRequest{Path: bad, Data: nil, Acl: worldAll, Flags: 0})
	}
	c.Multi("delete /zookeeper", &zk.DeleteRequest{Path: "/zookeeper", Version: -1})
	c.Children(r)
}

func sequentialAndEphemeral(e *Env) {
	r := e.Root
	c1 := e.Connect("c1", ConnectOptions{})
	c2 := e.Connect("c2", ConnectOptions{})
	c1.Create(r, nil, 0, nil)
	p := r + "/p"
	c1.Create(p, nil, 0, nil)
	for i := 0; i < 3; i++ {
		c1.Create(p+"/s-", []byte("seq"), zk.FlagSequence, nil)
	}
	c1.Create(p+"/plain", nil, 0, nil) // advances the sequence counter too
	c1.Create(p+"/s-", nil, zk.FlagSequence, nil)
	c1.Delete(p+"/s-0000000001", -1)
	c1.Exists(p) // cversion counts creates and deletes, pzxid is the delete
	c1.Create(p+"/s-", nil, zk.FlagSequence, nil)
	c1.Create(p+"/", nil, zk.FlagSequence, nil) // a bare sequence number as the name
	c2.Create(p+"/e", []byte("mine"), zk.FlagEphemeral, nil)
	c2.Create(p+"/es-", nil, zk.FlagEphemeralSequential, nil)
	c1.Get(p + "/e") // ephemeralOwner is c2's session
	c2.Get(p + "/e")
	c1.Exists(p + "/es-0000000007")
	c1.Children(p)
	c2.Close()
	c1.Children(p) // the ephemerals left with the session
	c1.Exists(p + "/e")
	c1.Create(p+"/s-", nil, zk.FlagSequence, nil)
	c1.Exists(p)
}

func oneshotWatches(e *Env) {
	r := e.Root
	w := e.Connect("writer", ConnectOptions{})
	c := e.Connect("watcher", ConnectOptions{})
	w.Create(r, nil, 0, nil)
	n := r + "/n"

	// exists on a missing node sets a watch that creation fires.
	c.ExistsW(n)
	w.Create(n, []byte("0"), 0, nil)
	c.Drain()
	w.Drain() // the writer set no watch

	// getData, then setData.
	c.GetW(n)
	w.Set(n, []byte("1"), -1)
	c.Drain()
	// consumed: a second change fires nothing.
	w.Set(n, []byte("2"), -1)
	c.Drain()

	// exists on an existing node is a data watch.
	c.ExistsW(n)
	w.Set(n, []byte("3"), -1)
	c.Drain()

	// getChildren, then a child create; again for a child delete.
	c.ChildrenW(n)
	w.Create(n+"/k", nil, 0, nil)
	c.Drain()
	c.ChildrenW(n)
	w.Set(n+"/k", []byte("data change of a child is not a child event"), -1)
	c.Drain()
	w.Delete(n+"/k", -1)
	c.Drain()

	// getData on a missing node fails and leaves no watch.
	c.GetW(r + "/absent")
	w.Create(r+"/absent", nil, 0, nil)
	c.Drain()

	// getData, then delete.
	c.GetW(n)
	w.Delete(n, -1)
	c.Drain()

	// exists + getData + getChildren on one node: the server sends ONE NodeDeleted, and
	// go-zookeeper hands it to all three watch channels.
	t := r + "/three"
	w.Create(t, nil, 0, nil)
	c.ExistsW(t)
	c.GetW(t)
	c.ChildrenW(t)
	w.Delete(t, -1)
	c.Drain()

	// Two watched paths, one change: NodeCreated for the node, then NodeChildrenChanged for
	// its parent.
	o := r + "/o"
	w.Create(o, nil, 0, nil)
	c.ChildrenW(o)
	c.ExistsW(o + "/x")
	w.Create(o+"/x", nil, 0, nil)
	c.Drain()
	// ...and for a delete: NodeDeleted, then NodeChildrenChanged.
	c.ChildrenW(o)
	c.GetW(o + "/x")
	w.Delete(o+"/x", -1)
	c.Drain()

	// A client that changes a node it watches gets the event too.
	w.GetW(o)
	w.Set(o, []byte("self"), -1)
	w.Drain()
	c.Drain()
}

func multiOps(e *Env) {
	r := e.Root
	c := e.Connect("c1", ConnectOptions{})
	w := e.Connect("watcher", ConnectOptions{})
	c.Create(r, nil, 0, nil)
	c.Create(r+"/m1", []byte("one"), 0, nil)

	w.ChildrenW(r)
	w.GetW(r + "/m1")
	c.Multi("success",
		&zk.CreateRequest{Path: r + "/m2", Data: []byte("two"), Acl: worldAll},
		&zk.SetDataRequest{Path: r + "/m1", Data: []byte("one'"), Version: 0},
		&zk.CheckVersionRequest{Path: r + "/m2", Version: 0},
		&zk.CreateRequest{Path: r + "/m3", Acl: worldAll, Flags: zk.FlagSequence},
		&zk.DeleteRequest{Path: r + "/m2", Version: 0},
	)
	w.Drain() // events in op order
	c.Children(r)
	c.Get(r + "/m1")

	c.Multi("failing set in the middle",
		&zk.CreateRequest{Path: r + "/m4", Data: []byte("four"), Acl: worldAll},
		&zk.SetDataRequest{Path: r + "/m1", Data: []byte("x"), Version: 99},
		&zk.CreateRequest{Path: r + "/m5", Acl: worldAll},
	)
	c.Exists(r + "/m4") // nothing was applied
	c.Get(r + "/m1")
	c.Multi("failing check",
		&zk.SetDataRequest{Path: r + "/m1", Data: []byte("y"), Version: -1},
		&zk.CheckVersionRequest{Path: r + "/m1", Version: 7},
	)
	c.Multi("check of a missing node",
		&zk.CheckVersionRequest{Path: r + "/none", Version: -1},
	)
	c.Multi("create then create the same",
		&zk.CreateRequest{Path: r + "/dup", Acl: worldAll},
		&zk.CreateRequest{Path: r + "/dup", Acl: worldAll},
	)
	c.Multi("create under a node created earlier in the multi",
		&zk.CreateRequest{Path: r + "/tree", Acl: worldAll},
		&zk.CreateRequest{Path: r + "/tree/leaf", Data: []byte("l"), Acl: worldAll},
	)
	c.Multi("delete a node with children",
		&zk.DeleteRequest{Path: r + "/tree", Version: -1},
	)
	c.Multi("empty")
	c.Children(r)
	w.Drain() // the failed multis fired nothing
}

func aclAndAuth(e *Env) {
	r := e.Root
	alice := e.Connect("alice", ConnectOptions{})
	anon := e.Connect("anon", ConnectOptions{})
	bob := e.Connect("bob", ConnectOptions{})
	alice.AddAuth("digest", "alice:secret")
	bob.AddAuth("digest", "bob:pw")
	alice.Create(r, nil, 0, worldAll)

	d := r + "/digest"
	alice.Create(d, []byte("private"), 0, zk.DigestACL(zk.PermAll, "alice", "secret"))
	alice.Get(d)
	alice.GetACL(d)
	anon.Get(d) // NoAuth
	anon.GetACL(d)
	bob.GetACL(d)
	anon.Set(d, []byte("x"), -1) // NoAuth
	anon.Children(d)             // NoAuth
	anon.Create(d+"/kid", nil, 0, worldAll)
	bob.Get(d) // NoAuth: another digest identity
	alice.Create(d+"/kid", []byte("k"), 0, worldAll)
	anon.Delete(d+"/kid", -1) // NoAuth: DELETE is checked on the parent
	anon.Get(d + "/kid")      // the child's own ACL is world
	alice.Delete(d+"/kid", -1)

	// read-only for the world, everything for alice.
	ro := r + "/ro"
	alice.Create(ro, []byte("r"), 0, append(zk.WorldACL(zk.PermRead), zk.DigestACL(zk.PermAll, "alice", "secret")...))
	anon.Get(ro)
	anon.GetACL(ro)
	anon.Set(ro, []byte("w"), -1)               // NoAuth
	anon.SetACL(ro, worldAll, -1)               // NoAuth: needs ADMIN
	anon.Delete(ro, -1)                         // allowed: DELETE is the parent's
	alice.Create(ro, []byte("r"), 0, worldRead) // recreate, read-only for all
	alice.SetACL(ro, worldAll, 5)               // BadVersion: aversion is 0
	alice.Set(ro, []byte("w"), -1)              // NoAuth even for alice now
	alice.SetACL(ro, worldRead, 0)              // NoAuth: no ADMIN in world:anyone:r
	alice.Create(ro+"/kid", nil, 0, worldAll)   // NoAuth: no CREATE
	alice.Create(r+"/admin", []byte("a"), 0, zk.WorldACL(zk.PermAdmin|zk.PermRead))
	anon.SetACL(r+"/admin", worldAll, 0)  // ADMIN is enough
	anon.SetACL(r+"/admin", worldRead, 0) // BadVersion: aversion is now 1
	anon.GetACL(r + "/admin")

	// The "auth" scheme means "the identities of this connection".
	anon.Create(r+"/inv", nil, 0, zk.AuthACL(zk.PermAll)) // InvalidACL: no identity
	alice.Create(r+"/auth", []byte("a"), 0, zk.AuthACL(zk.PermAll))
	alice.GetACL(r + "/auth")                                                                      // the digest of alice
	alice.Create(r+"/noacl", nil, 0, []zk.ACL{})                                                   // InvalidACL
	alice.Create(r+"/badscheme", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "nosuch", ID: "x"}}) // InvalidACL
	alice.Create(r+"/badip", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "ip", ID: "not-an-ip"}}) // InvalidACL

	// ip ACLs match the client's address (loopback here).
	alice.Create(r+"/ip-local", []byte("l"), 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "ip", ID: "127.0.0.1"}})
	alice.Create(r+"/ip-net", []byte("n"), 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "ip", ID: "127.0.0.0/8"}})
	alice.Create(r+"/ip-other", []byte("o"), 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "ip", ID: "10.1.2.3"}})
	anon.Get(r + "/ip-local")
	anon.Get(r + "/ip-net")
	anon.Get(r + "/ip-other") // NoAuth
	anon.Set(r+"/ip-local", []byte("L"), -1)
	anon.Children(r)
}

func sessionClose(e *Env) {
	r := e.Root
	owner := e.Connect("owner", ConnectOptions{})
	w := e.Connect("watcher", ConnectOptions{})
	w.Create(r, nil, 0, nil)
	owner.Create(r+"/e", []byte("e"), zk.FlagEphemeral, nil)
	owner.Create(r+"/p", nil, 0, nil) // persistent: stays
	w.ExistsW(r + "/e")
	w.ChildrenW(r)
	w.Exists(r + "/e")
	owner.Close()
	w.Drain() // NodeDeleted, then NodeChildrenChanged
	w.Children(r)
	w.Exists(r + "/e")
	w.Create(r+"/e", nil, 0, nil) // the name is free again
}

func sessionExpiry(e *Env) {
	r := e.Root
	w := e.Connect("watcher", ConnectOptions{})
	victim := e.Connect("victim", ConnectOptions{SessionTimeout: time.Second})
	w.Create(r, nil, 0, nil)
	victim.Create(r+"/e", []byte("e"), zk.FlagEphemeral, nil)
	w.ExistsW(r + "/e")
	w.ChildrenW(r)
	victim.Cut() // no packets: the server expires the session after about a second
	w.AwaitEvents(2)
	w.Children(r)
	victim.Restore()
	victim.AwaitState(zk.StateExpired)
	// go-zookeeper then opens a brand-new session on its own.
	if victim.AwaitState(zk.StateHasSession) {
		e.Tx.Addf("victim: session %s", SessionToken(victim.Conn().SessionID()))
	}
	victim.Exists(r + "/e")
	victim.Create(r+"/e", []byte("again"), zk.FlagEphemeral, nil)
	w.Get(r + "/e") // owned by the victim's new session
}

func oversizeData(e *Env) {
	r := e.Root
	big := e.Connect("big", ConnectOptions{SendBuffer: 4 << 20})
	other := e.Connect("other", ConnectOptions{})
	big.Create(r, nil, 0, nil)
	n := r + "/node"
	big.Create(n, []byte("small"), 0, nil)
	other.GetW(n)

	// 2 MiB is over the 1 MiB request limit (jute.maxbuffer): the server drops the
	// connection rather than answering, and the client reconnects to the same session.
	_, err := big.Conn().Set(n, bytes.Repeat([]byte("x"), 2<<20), -1)
	switch {
	case err == nil:
		e.Tx.Addf("big: set 2MiB -> ok (accepted)")
	case errors.Is(err, zk.ErrConnectionClosed) || ErrName(err) == "ConnectionLost":
		e.Tx.Addf("big: set 2MiB -> connection dropped")
	default:
		e.Tx.Addf("big: set 2MiB -> %s", ErrName(err))
	}
	if big.AwaitState(zk.StateHasSession) {
		e.Tx.Addf("big: session %s", SessionToken(big.Conn().SessionID()))
	}
	big.Get(n) // unchanged
	other.Drain()
	other.Get(n)
	other.Set(n, []byte("still fine"), -1)
	big.Set(n, bytes.Repeat([]byte("y"), 512<<10), -1) // under the limit: accepted
	other.Exists(n)
}

func zookeeperTree(e *Env) {
	c := e.Connect("c1", ConnectOptions{})
	c.Exists("/zookeeper")
	c.Children("/zookeeper")
	c.Exists("/zookeeper/quota")
	c.Exists("/zookeeper/config")
	c.Get("/zookeeper/config")
	c.GetACL("/zookeeper/config")
	c.Set("/zookeeper/config", []byte("x"), -1) // NoAuth: read-only for the world
	c.Children("/zookeeper/quota")
}

// rawReads covers the reads go-zookeeper has no API for, with a raw-protocol client:
// multiRead (independent sub-results, no watches), getAllChildrenNumber and getEphemerals.
func rawReads(e *Env) {
	r := e.Root
	c := e.Connect("c1", ConnectOptions{})
	c.Create(r, []byte("root"), 0, nil)
	c.Create(r+"/a", []byte("A"), 0, nil)
	c.Create(r+"/a/x", nil, 0, nil)
	c.Create(r+"/b", nil, 0, nil)
	c.Create(r+"/secret", []byte("s"), 0, zk.DigestACL(zk.PermAll, "u", "p"))
	raw := e.ConnectRaw("raw")
	raw.MultiRead("mixed",
		proto.MultiOp{Type: proto.OpGetData, Path: r + "/a", Watch: true},
		proto.MultiOp{Type: proto.OpGetChildren, Path: r, Watch: true},
		proto.MultiOp{Type: proto.OpGetData, Path: r + "/missing"},
		proto.MultiOp{Type: proto.OpGetChildren, Path: r + "/missing"},
		proto.MultiOp{Type: proto.OpGetData, Path: r + "/secret"},
		proto.MultiOp{Type: proto.OpGetData, Path: r + "/b"},
	)
	raw.MultiRead("empty")
	c.Set(r+"/a", []byte("A2"), -1)
	c.Create(r+"/c", nil, 0, nil)
	raw.Drain() // multiRead left no watches
	raw.GetAllChildrenNumber(r)
	raw.GetAllChildrenNumber(r + "/a")
	raw.GetAllChildrenNumber(r + "/a/x")
	raw.GetAllChildrenNumber(r + "/missing")
	raw.GetAllChildrenNumber(r + "/secret")
	c.Create(r+"/e1", nil, zk.FlagEphemeral, nil)
	raw.GetEphemerals(r) // another session's ephemerals are not listed
	c.Close()
}
