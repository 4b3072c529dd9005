package tree

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// Txn is the context of one write transaction.
type Txn struct {
	Zxid    int64
	Time    int64 // ms since the epoch; ctime/mtime of what the txn writes
	Session int64 // the session the request came from; owns created ephemerals
	// Auth are the ids the session has authenticated as, for ACL checks
	// and for expanding "auth" ACL entries.
	Auth []znode.ID
	// ExtendedTypes allows TTL nodes (ZooKeeper's
	// zookeeper.extendedTypesEnabled); without it a TTL create fails with
	// Unimplemented.
	ExtendedTypes bool
}

// Op is one write operation of a transaction: Create, Delete,
// DeleteContainer, SetData, SetACL or Check (or a pointer to one).
type Op interface{ isOp() }

// Create creates a node (create, create2, createContainer and createTTL
// requests; the mode says which kind of node).
type Create struct {
	Path string
	Data []byte // nil is null data, distinct from empty
	ACL  []znode.ACL
	Mode znode.CreateMode
	// TTL is the time to live in ms for the TTL modes. Every other create
	// must pass -1 (what ZooKeeper assumes for a plain CreateRequest);
	// 0 or more with a non-TTL mode is BadArguments.
	TTL int64
}

// Delete deletes a node. Version -1 matches any version.
type Delete struct {
	Path    string
	Version int32
}

// DeleteContainer deletes an empty container or expired TTL node. It is
// internal (the server's reaper sends it): no ACL or version check, and it
// refuses a normal ephemeral node with BadVersion, as ZooKeeper does.
type DeleteContainer struct {
	Path string
}

// SetData replaces a node's data. Version -1 matches any version.
type SetData struct {
	Path    string
	Data    []byte
	Version int32
}

// SetACL replaces a node's ACL. Version is checked against the ACL
// version (aversion); -1 matches any.
type SetACL struct {
	Path    string
	ACL     []znode.ACL
	Version int32
}

// Check asserts a node's data version inside a multi. Version -1 only
// checks that the node exists and is readable.
type Check struct {
	Path    string
	Version int32
}

func (Create) isOp()          {}
func (Delete) isOp()          {}
func (DeleteContainer) isOp() {}
func (SetData) isOp()         {}
func (SetACL) isOp()          {}
func (Check) isOp()           {}

// Result is the result of one op.
//
// When the transaction succeeded, Err is nil, Path is the op's path (for a
// create, the created path with any sequential suffix) and Stat is the
// node's stat after a create, setData or setACL.
//
// When the transaction failed (Outcome.Err != nil), every Result is an
// error result as a multi response reports it: Err nil for the ops before
// the failing one (ErrorResult code 0), the failure for the failing op,
// and an error wrapping znode.ErrRuntimeInconsistency for the ops after
// it; Path and Stat are zero.
type Result struct {
	Path string
	Stat znode.Stat
	Err  error
}

// Outcome is what a transaction did.
type Outcome struct {
	// Results has one entry per op, in op order.
	Results []Result
	// Events are the watch events to trigger, in ZooKeeper's trigger
	// order, all carrying the transaction's zxid and the ACL a watcher
	// must be able to READ (the node's; the parent's for
	// NodeChildrenChanged). Empty when the transaction failed.
	Events []znode.Event
	// Batch is what to persist: the final state of every node the
	// transaction changed, and the paths it removed, each path once.
	// Batch.Zxid is the transaction's zxid even when it failed (then the
	// batch changes nothing). Its slices are shared with the tree.
	Batch storage.Batch
	// Err is the first failure (the single op's error for a non-multi);
	// nil on success.
	Err error
	// Undo reverts a successful transaction. It is valid only while every
	// transaction applied after this one has been undone first (newest
	// first): the server uses it when a batch cannot be made durable. Nil
	// when the transaction failed (nothing to undo).
	Undo func()
}

// Apply runs ops as one atomic transaction: either every op succeeds or
// the tree is left exactly as it was. A single op is a plain request; more
// than one is a multi. See Result for how a failed multi is reported.
func (t *Tree) Apply(tx Txn, ops ...Op) Outcome {
	a := &applier{t: t, tx: tx, journaled: true}
	// Most ops produce two events and touch two paths.
	a.events = make([]znode.Event, 0, 2*len(ops))
	a.touched = make([]string, 0, 2*len(ops))
	out := Outcome{Results: make([]Result, len(ops)), Batch: storage.Batch{Zxid: tx.Zxid}}
	for i, op := range ops {
		res, err := a.apply(op)
		if err != nil {
			a.rollback()
			for j := range out.Results {
				switch {
				case j < i:
					out.Results[j] = Result{}
				case j == i:
					out.Results[j] = Result{Err: err}
				default:
					out.Results[j] = Result{Err: errAborted}
				}
			}
			out.Err = err
			out.Events = nil
			return out
		}
		out.Results[i] = res
	}
	out.Events = a.events
	out.Batch = a.batch()
	out.Undo = a.rollback
	if t.snap != nil {
		t.snap.capture(a.journal)
	}
	return out
}

// KillSession deletes every normal ephemeral node of tx.Session (in path
// order) as a closeSession or session expiry does, with the usual delete
// events. Results has one entry per deleted node. Session records are the
// server's business and are not in the batch.
func (t *Tree) KillSession(tx Txn) Outcome {
	a := &applier{t: t, tx: tx, journaled: true}
	paths := t.SessionEphemerals(tx.Session)
	out := Outcome{Results: make([]Result, 0, len(paths))}
	for _, p := range paths {
		n := t.nodes[p]
		parentPath, name := splitPath(p)
		parent := t.nodes[parentPath]
		if n == nil || parent == nil { // cannot happen: the index follows the tree
			continue
		}
		a.remove(p, parentPath, name, n, parent)
		out.Results = append(out.Results, Result{Path: p})
	}
	out.Events = a.events
	out.Batch = a.batch()
	out.Undo = a.rollback
	if t.snap != nil {
		t.snap.capture(a.journal)
	}
	return out
}

var errAborted = fmt.Errorf("tree: multi op not run after an earlier failure: %w", znode.ErrRuntimeInconsistency)

// applier carries one transaction's state: its events, the paths it
// touched and, for a multi, the journal that undoes it.
type applier struct {
	t         *Tree
	tx        Txn
	journaled bool
	journal   []undo
	events    []znode.Event
	touched   []string
	seen      map[string]struct{} // index of touched once it grows
}

type undoKind uint8

const (
	undoCreate undoKind = iota // remove n, restore *parent
	undoDelete                 // put n back, restore *parent
	undoUpdate                 // restore *n
)

type undo struct {
	kind   undoKind
	path   string
	name   string
	n      *node
	parent *node
	prev   node // *parent (create, delete) or *n (update) before the op
}

func (a *applier) rollback() {
	t := a.t
	for i := len(a.journal) - 1; i >= 0; i-- {
		u := &a.journal[i]
		switch u.kind {
		case undoCreate:
			delete(t.nodes, u.path)
			t.unindex(u.path, u.n)
			t.dataSize -= nodeSize(u.path, u.n)
			delete(u.parent.children, u.name)
			*u.parent = u.prev
		case undoDelete:
			t.nodes[u.path] = u.n
			t.index(u.path, u.n)
			t.dataSize += nodeSize(u.path, u.n)
			*u.parent = u.prev
			u.parent.addChild(u.name)
		case undoUpdate:
			t.dataSize += int64(len(u.prev.data) - len(u.n.data))
			*u.n = u.prev
		}
	}
	a.journal = nil
}

const seenAbove = 16

func (a *applier) touch(p string) {
	if a.seen != nil {
		if _, ok := a.seen[p]; ok {
			return
		}
		a.seen[p] = struct{}{}
		a.touched = append(a.touched, p)
		return
	}
	for _, q := range a.touched {
		if q == p {
			return
		}
	}
	a.touched = append(a.touched, p)
	if len(a.touched) > seenAbove {
		a.seen = make(map[string]struct{}, 2*len(a.touched))
		for _, q := range a.touched {
			a.seen[q] = struct{}{}
		}
	}
}

func (a *applier) batch() storage.Batch {
	b := storage.Batch{Zxid: a.tx.Zxid}
	live := 0
	for _, p := range a.touched {
		if a.t.nodes[p] != nil {
			live++
		}
	}
	if live > 0 {
		b.Puts = make([]storage.Node, 0, live)
	}
	for _, p := range a.touched {
		if n := a.t.nodes[p]; n != nil {
			b.Puts = append(b.Puts, n.record(p))
		} else {
			b.Deletes = append(b.Deletes, p)
		}
	}
	return b
}

// event records an event about node n at path, after the change.
func (a *applier) event(typ znode.EventType, path string, n *node) {
	ev := znode.Event{Type: typ, Path: path, Zxid: a.tx.Zxid, Time: a.tx.Time, Version: n.version, ACL: n.acl}
	switch typ {
	case znode.EventNodeCreated, znode.EventNodeDataChanged:
		ev.Data = n.data // data slices are replaced, never modified in place
	case znode.EventNodeChildrenChanged:
		ev.Version = n.stat().Cversion
	}
	a.events = append(a.events, ev)
}

func (a *applier) apply(op Op) (Result, error) {
	switch o := op.(type) {
	case Create:
		return a.create(o)
	case *Create:
		if o != nil {
			return a.create(*o)
		}
	case Delete:
		return a.delete(o)
	case *Delete:
		if o != nil {
			return a.delete(*o)
		}
	case DeleteContainer:
		return a.deleteContainer(o)
	case *DeleteContainer:
		if o != nil {
			return a.deleteContainer(*o)
		}
	case SetData:
		return a.setData(o)
	case *SetData:
		if o != nil {
			return a.setData(*o)
		}
	case SetACL:
		return a.setACL(o)
	case *SetACL:
		if o != nil {
			return a.setACL(*o)
		}
	case Check:
		return a.check(o)
	case *Check:
		if o != nil {
			return a.check(*o)
		}
	}
	return Result{}, fmt.Errorf("tree: unsupported op %T: %w", op, znode.ErrBadArguments)
}

func badArgs(op, path, why string) error {
	return fmt.Errorf("tree: %s %q: %w: %s", op, path, znode.ErrBadArguments, why)
}

func badVersion(op, path string, want, have int32) error {
	return fmt.Errorf("tree: %s %q: %w: expected %d, node has %d", op, path, znode.ErrBadVersion, want, have)
}

// versionOK reports whether the expected version matches (-1 matches any).
func versionOK(want, have int32) bool { return want == -1 || want == have }

// nextVersion increments a version, skipping -1 on wrap-around so that a
// client can still name the new version in a conditional write
// (ZOOKEEPER-4743; ZooKeeper releases up to 3.9 let it become -1).
func nextVersion(v int32) int32 {
	v++
	if v == -1 {
		v = 0
	}
	return v
}

// parentOf splits a request path at its last '/' the way ZooKeeper's
// request preparation does, "" (the part before a top-level name) being
// the root. ok is false when the path has no '/' or has a NUL character.
func parentOf(p string) (parent, name string, ok bool) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 || strings.IndexByte(p, 0) >= 0 {
		return "", "", false
	}
	if i == 0 {
		return rootPath, p[1:], true
	}
	return p[:i], p[i+1:], true
}

// appendSeq appends v formatted as "%010d": ten digits, zero padded after
// the sign for negative values (the parent's create counter wraps).
func appendSeq(b []byte, v int32) []byte {
	var digits [11]byte
	d := strconv.AppendInt(digits[:0], int64(v), 10)
	neg := v < 0
	if neg {
		b = append(b, '-')
		d = d[1:]
	}
	width := 10
	if neg {
		width = 9
	}
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

func cloneData(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// create follows ZooKeeper's check order: flags, TTL, ephemeral owner,
// path shape, ACL, parent, parent CREATE permission, suffix and full path
// validation, existence, ephemeral parent.
func (a *applier) create(c Create) (Result, error) {
	const op = "create"
	t, tx := a.t, &a.tx
	mode := c.Mode
	if !mode.Valid() {
		return Result{}, badArgs(op, c.Path, fmt.Sprintf("invalid create mode %d", int32(mode)))
	}
	if mode.TTL() && !tx.ExtendedTypes {
		return Result{}, fmt.Errorf("tree: %s %q: %w: TTL nodes are disabled", op, c.Path, znode.ErrUnimplemented)
	}
	if mode.TTL() {
		if c.TTL <= 0 || c.TTL > znode.MaxTTL {
			return Result{}, badArgs(op, c.Path, fmt.Sprintf("ttl %d out of range (1..%d)", c.TTL, znode.MaxTTL))
		}
	} else if c.TTL >= 0 {
		return Result{}, badArgs(op, c.Path, fmt.Sprintf("ttl %d given for mode %v", c.TTL, mode))
	}
	if mode.Ephemeral() && kindOf(tx.Session) != kindEphemeral {
		return Result{}, badArgs(op, c.Path, fmt.Sprintf("session %#x cannot own an ephemeral node", uint64(tx.Session)))
	}
	parentPath, _, ok := parentOf(c.Path)
	if !ok {
		return Result{}, badArgs(op, c.Path, "path must contain '/' and no null character")
	}
	acl, err := znode.FixupACL(c.ACL, tx.Auth)
	if err != nil {
		return Result{}, fmt.Errorf("tree: %s %q: %w", op, c.Path, err)
	}
	parent := t.nodes[parentPath]
	if parent == nil {
		return Result{}, noNode(op, parentPath)
	}
	if !znode.Allowed(parent.acl, tx.Auth, znode.PermCreate) {
		return Result{}, noAuth(op, c.Path)
	}
	path := c.Path
	if mode.Sequential() {
		path = string(appendSeq([]byte(c.Path), parent.cversion))
	}
	if err := znode.ValidatePath(path); err != nil {
		return Result{}, fmt.Errorf("tree: %s: %w", op, err)
	}
	if t.nodes[path] != nil {
		return Result{}, fmt.Errorf("tree: %s %q: %w", op, path, znode.ErrNodeExists)
	}
	if kindOf(parent.owner) == kindEphemeral {
		return Result{}, fmt.Errorf("tree: %s %q: %w", op, path, znode.ErrNoChildrenForEphemerals)
	}

	var owner int64
	switch {
	case mode.Container():
		owner = znode.ContainerOwner
	case mode.TTL():
		owner = znode.TTLOwnerMask | c.TTL
	case mode.Ephemeral():
		owner = tx.Session
	}
	n := &node{
		data:  cloneData(c.Data),
		acl:   acl,
		czxid: tx.Zxid, mzxid: tx.Zxid, pzxid: tx.Zxid,
		ctime: tx.Time, mtime: tx.Time,
		owner: owner,
	}
	name := path[strings.LastIndexByte(path, '/')+1:]
	if a.journaled {
		a.journal = append(a.journal, undo{kind: undoCreate, path: path, name: name, n: n, parent: parent, prev: *parent})
	}
	t.nodes[path] = n
	parent.addChild(name)
	parent.cversion++
	parent.pzxid = tx.Zxid
	t.index(path, n)
	t.dataSize += nodeSize(path, n)

	a.event(znode.EventNodeCreated, path, n)
	a.event(znode.EventNodeChildrenChanged, parentPath, parent)
	a.touch(path)
	a.touch(parentPath)
	return Result{Path: path, Stat: n.stat()}, nil
}

// delete: path shape and special paths, parent, parent DELETE permission,
// node, version, children.
func (a *applier) delete(d Delete) (Result, error) {
	const op = "delete"
	t := a.t
	parentPath, name, ok := parentOf(d.Path)
	if !ok {
		return Result{}, badArgs(op, d.Path, "path must contain '/' and no null character")
	}
	if isSpecial(d.Path) {
		return Result{}, badArgs(op, d.Path, "cannot delete a system node")
	}
	parent := t.nodes[parentPath]
	if parent == nil {
		return Result{}, noNode(op, parentPath)
	}
	if !znode.Allowed(parent.acl, a.tx.Auth, znode.PermDelete) {
		return Result{}, noAuth(op, d.Path)
	}
	n := t.nodes[d.Path]
	if n == nil {
		return Result{}, noNode(op, d.Path)
	}
	if !versionOK(d.Version, n.version) {
		return Result{}, badVersion(op, d.Path, d.Version, n.version)
	}
	if len(n.children) > 0 {
		return Result{}, fmt.Errorf("tree: %s %q: %w", op, d.Path, znode.ErrNotEmpty)
	}
	a.remove(d.Path, parentPath, name, n, parent)
	return Result{Path: d.Path}, nil
}

// deleteContainer: path shape and special paths, node, children, normal
// ephemeral (BadVersion), parent. No ACL or version check.
func (a *applier) deleteContainer(d DeleteContainer) (Result, error) {
	const op = "deleteContainer"
	t := a.t
	parentPath, name, ok := parentOf(d.Path)
	if !ok {
		return Result{}, badArgs(op, d.Path, "path must contain '/' and no null character")
	}
	if isSpecial(d.Path) {
		return Result{}, badArgs(op, d.Path, "cannot delete a system node")
	}
	n := t.nodes[d.Path]
	if n == nil {
		return Result{}, noNode(op, d.Path)
	}
	if len(n.children) > 0 {
		return Result{}, fmt.Errorf("tree: %s %q: %w", op, d.Path, znode.ErrNotEmpty)
	}
	if kindOf(n.owner) == kindEphemeral {
		return Result{}, fmt.Errorf("tree: %s %q: %w: node is a session's ephemeral", op, d.Path, znode.ErrBadVersion)
	}
	parent := t.nodes[parentPath]
	if parent == nil {
		return Result{}, noNode(op, parentPath)
	}
	a.remove(d.Path, parentPath, name, n, parent)
	return Result{Path: d.Path}, nil
}

// remove deletes a checked, childless node and records its events.
func (a *applier) remove(path, parentPath, name string, n, parent *node) {
	t := a.t
	if a.journaled {
		a.journal = append(a.journal, undo{kind: undoDelete, path: path, name: name, n: n, parent: parent, prev: *parent})
	}
	delete(t.nodes, path)
	delete(parent.children, name)
	if len(parent.children) == 0 {
		parent.children = nil // a childless node holds no map
	}
	parent.pzxid = a.tx.Zxid
	t.unindex(path, n)
	t.dataSize -= nodeSize(path, n)

	a.event(znode.EventNodeDeleted, path, n)
	a.event(znode.EventNodeChildrenChanged, parentPath, parent)
	a.touch(path)
	a.touch(parentPath)
}

// setData: path, node, WRITE permission, version.
func (a *applier) setData(s SetData) (Result, error) {
	const op = "setData"
	t := a.t
	if err := znode.ValidatePath(s.Path); err != nil {
		return Result{}, fmt.Errorf("tree: %s: %w", op, err)
	}
	n := t.nodes[s.Path]
	if n == nil {
		return Result{}, noNode(op, s.Path)
	}
	if !znode.Allowed(n.acl, a.tx.Auth, znode.PermWrite) {
		return Result{}, noAuth(op, s.Path)
	}
	if !versionOK(s.Version, n.version) {
		return Result{}, badVersion(op, s.Path, s.Version, n.version)
	}
	if a.journaled {
		a.journal = append(a.journal, undo{kind: undoUpdate, path: s.Path, n: n, prev: *n})
	}
	data := cloneData(s.Data)
	t.dataSize += int64(len(data) - len(n.data))
	n.data = data
	n.version = nextVersion(n.version)
	n.mzxid = a.tx.Zxid
	n.mtime = a.tx.Time

	a.event(znode.EventNodeDataChanged, s.Path, n)
	a.touch(s.Path)
	return Result{Path: s.Path, Stat: n.stat()}, nil
}

// setACL: path, ACL, node, ADMIN permission, ACL version. No events.
func (a *applier) setACL(s SetACL) (Result, error) {
	const op = "setACL"
	t := a.t
	if err := znode.ValidatePath(s.Path); err != nil {
		return Result{}, fmt.Errorf("tree: %s: %w", op, err)
	}
	acl, err := znode.FixupACL(s.ACL, a.tx.Auth)
	if err != nil {
		return Result{}, fmt.Errorf("tree: %s %q: %w", op, s.Path, err)
	}
	n := t.nodes[s.Path]
	if n == nil {
		return Result{}, noNode(op, s.Path)
	}
	if !znode.Allowed(n.acl, a.tx.Auth, znode.PermAdmin) {
		return Result{}, noAuth(op, s.Path)
	}
	if !versionOK(s.Version, n.aversion) {
		return Result{}, badVersion(op, s.Path, s.Version, n.aversion)
	}
	if a.journaled {
		a.journal = append(a.journal, undo{kind: undoUpdate, path: s.Path, n: n, prev: *n})
	}
	n.acl = acl
	n.aversion = nextVersion(n.aversion)
	a.touch(s.Path)
	return Result{Path: s.Path, Stat: n.stat()}, nil
}

// check: path, node, READ permission, version. Changes nothing.
func (a *applier) check(c Check) (Result, error) {
	const op = "check"
	if err := znode.ValidatePath(c.Path); err != nil {
		return Result{}, fmt.Errorf("tree: %s: %w", op, err)
	}
	n := a.t.nodes[c.Path]
	if n == nil {
		return Result{}, noNode(op, c.Path)
	}
	if !znode.Allowed(n.acl, a.tx.Auth, znode.PermRead) {
		return Result{}, noAuth(op, c.Path)
	}
	if !versionOK(c.Version, n.version) {
		return Result{}, badVersion(op, c.Path, c.Version, n.version)
	}
	return Result{Path: c.Path}, nil
}
