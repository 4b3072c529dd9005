// Package client is zkx's Go client for the ZooKeeper wire protocol. It
// works against zkx and against Apache ZooKeeper 3.6 and later, and unlike
// the common Go client it supports persistent and persistent-recursive
// watches (AddWatch).
//
// # Sessions and connections
//
// Connect takes a ZooKeeper connect string, "host:port,host:port/chroot",
// and returns once a session is established. The client then owns one
// session and at most one TCP connection at a time. Each connection has
// one reader and one writer goroutine. The writer sends requests in the
// order they were submitted, and a ping whenever it has sent nothing for
// a third of the negotiated session timeout; the reader matches each reply
// to the oldest outstanding request and drops the connection if the xids
// differ, and declares the connection lost when nothing has arrived for
// two thirds of the session timeout.
//
// When the connection is lost, every call in flight fails with
// ErrConnectionLoss (it may or may not have been applied), the state
// becomes StateDisconnected, and the client reconnects: it tries the
// servers in shuffled order with a short jittered back-off between passes,
// re-attaches the session with its id and password, sends the AddAuth
// credentials again, then re-registers every watch it still holds with
// SetWatches (or SetWatches2 when a batch holds persistent or recursive
// watches), relative to the last zxid it saw, in batches under 128 KiB.
// One-shot watches whose node changed meanwhile fire at once; persistent
// watches are only re-registered, as ZooKeeper never replays their missed
// events. Calls made while disconnected wait for the next connection.
//
// If the server says the session is gone, the state becomes StateExpired
// and the client is finished: every call returns ErrSessionExpired. The
// same holds after StateAuthFailed (ErrAuthFailed) and Close (ErrClosed).
// State changes are reported, in order, to Options.OnState and to
// AddStateListener callbacks.
//
// # Calls
//
// Every call takes a context. A call whose context ends returns ctx.Err();
// if its request was already sent, the reply is read and discarded when it
// arrives, so the FIFO matching of later replies is unaffected. Errors
// from the server wrap the znode sentinels (ErrNoNode is znode.ErrNoNode),
// so errors.Is works with either and proto.Code recovers the wire code.
// Paths are validated before anything is sent (ErrBadArguments). With a
// chroot, every path given and returned (created paths, event paths,
// ephemerals) is relative to it.
//
// # Watches
//
// ExistsW, GetW and ChildrenW set one-shot watches and return a channel
// that receives exactly one event. As in the Java client, the server sends
// one notification per path and the client fans it out: NodeCreated and
// NodeDataChanged go to data and exist watches, NodeDeleted to data,
// exist and child watches, NodeChildrenChanged to child watches. A watch
// is registered when its reply is read, before any later frame, so no
// event can slip between a read and its watch.
//
// AddWatch sets a persistent or recursive watch and returns a *Watch whose
// Events channel carries every matching event until Stop (which ends with
// PersistentWatchRemoved and closes the channel). A recursive watch never
// surfaces NodeChildrenChanged, even when the server sends one for a
// one-shot child watch of the same client on a node below it; this is the
// ZooKeeper 3.9 client's behaviour. Persistent watches also receive None
// events for Disconnected and Connected, so a consumer knows when to
// re-read what it may have missed, and a final None event when the session
// ends.
//
// Against ZooKeeper 3.8 servers note ZOOKEEPER-4466: a one-shot watch set
// on a path that has a persistent watch of the same session replaces it on
// the server. Notification zxids from 3.8 are -1.
//
// The recipe subpackage builds a tree cache and a leader latch on top of
// these primitives.
package client
