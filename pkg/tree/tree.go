package tree

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// The paths every tree has. Deleting any of them is BadArguments.
const (
	rootPath       = "/"
	procPath       = "/zookeeper"
	quotaPath      = "/zookeeper/quota"
	configPath     = "/zookeeper/config"
	procName       = "zookeeper"
	quotaName      = "quota"
	configName     = "config"
	numSpecial     = 4
	ttlHighByte    = znode.TTLOwnerMask
	ttlFeatureMask = ^znode.MaxTTL &^ znode.TTLOwnerMask // bits 40-55, zero for TTL nodes
)

func isSpecial(p string) bool {
	return p == rootPath || p == procPath || p == quotaPath || p == configPath
}

// kind is the node type encoded in the stored ephemeralOwner.
type kind uint8

const (
	kindPersistent kind = iota
	kindEphemeral       // a normal ephemeral, owned by a session
	kindContainer
	kindTTL
)

func kindOf(owner int64) kind {
	switch {
	case owner == 0:
		return kindPersistent
	case owner == znode.ContainerOwner:
		return kindContainer
	case owner&ttlHighByte == ttlHighByte:
		return kindTTL
	}
	return kindEphemeral
}

// node is one znode. Its fields are the stored values (see doc.go).
type node struct {
	data     []byte
	acl      []znode.ACL
	czxid    int64
	mzxid    int64
	ctime    int64
	mtime    int64
	pzxid    int64
	owner    int64
	version  int32
	cversion int32 // child creates ever
	aversion int32
	// snapGen is the Snapshot generation that has already written this
	// node (snapshot.go).
	snapGen  uint32
	children map[string]struct{} // names; nil when there are none
}

// stat returns the client view of n's metadata.
func (n *node) stat() znode.Stat {
	nc := int32(len(n.children))
	owner := n.owner
	if kindOf(owner) != kindEphemeral {
		owner = 0
	}
	return znode.Stat{
		Czxid:          n.czxid,
		Mzxid:          n.mzxid,
		Ctime:          n.ctime,
		Mtime:          n.mtime,
		Version:        n.version,
		Cversion:       n.cversion*2 - nc,
		Aversion:       n.aversion,
		EphemeralOwner: owner,
		DataLength:     int32(len(n.data)),
		NumChildren:    nc,
		Pzxid:          n.pzxid,
	}
}

func (n *node) record(path string) storage.Node {
	return storage.Node{
		Path:           path,
		Data:           n.data,
		ACL:            n.acl,
		Czxid:          n.czxid,
		Mzxid:          n.mzxid,
		Ctime:          n.ctime,
		Mtime:          n.mtime,
		Version:        n.version,
		Cversion:       n.cversion,
		Aversion:       n.aversion,
		EphemeralOwner: n.owner,
		Pzxid:          n.pzxid,
	}
}

// nodeSize is a node's share of ApproximateDataSize, as ZooKeeper counts
// it: path length plus data length.
func nodeSize(path string, n *node) int64 { return int64(len(path) + len(n.data)) }

// Tree is the znode tree.
//
// Concurrency: a Tree is not safe for concurrent use; the server guards it
// with one lock, held for every call including reads. The zero Tree is not
// usable; call New or NewFromStorage.
type Tree struct {
	nodes      map[string]*node
	ephemerals map[int64]map[string]struct{} // session -> paths; no empty sets
	containers map[string]struct{}
	ttls       map[string]struct{}
	dataSize   int64
	// snap is the snapshot being written, which keeps the pre-images of
	// nodes changed meanwhile; snapGens counts snapshots (snapshot.go).
	snap     *Snapshot
	snapGens uint32
}

func newEmpty() *Tree {
	return &Tree{
		nodes:      make(map[string]*node),
		ephemerals: make(map[int64]map[string]struct{}),
		containers: make(map[string]struct{}),
		ttls:       make(map[string]struct{}),
	}
}

// New returns a tree holding only what a fresh ZooKeeper server has: "/",
// "/zookeeper", "/zookeeper/quota" and "/zookeeper/config", all with empty
// (not null) data and zero stored counters. "/zookeeper/config" is
// world-readable only (READ_ACL_UNSAFE) and has aclVersion -1, as in
// ZooKeeper, whose constructor sets that ACL with version -1; the others
// are OPEN_ACL_UNSAFE.
func New() *Tree {
	t := newEmpty()
	t.addSpecial()
	for p, n := range t.nodes {
		t.dataSize += nodeSize(p, n)
	}
	return t
}

// addSpecial adds each special node that is missing and links it to its
// parent. It does not count their size.
func (t *Tree) addSpecial() {
	specials := []struct {
		path, parent, name string
		acl                []znode.ACL
		aversion           int32
	}{
		{rootPath, "", "", znode.OpenACLUnsafe, 0},
		{procPath, rootPath, procName, znode.OpenACLUnsafe, 0},
		{quotaPath, procPath, quotaName, znode.OpenACLUnsafe, 0},
		{configPath, procPath, configName, znode.ReadACLUnsafe, -1},
	}
	for _, s := range specials {
		if _, ok := t.nodes[s.path]; ok {
			continue
		}
		n := &node{data: []byte{}, acl: slices.Clone(s.acl), aversion: s.aversion}
		t.nodes[s.path] = n
		if s.parent != "" {
			t.nodes[s.parent].addChild(s.name)
		}
	}
}

func (n *node) addChild(name string) {
	if n.children == nil {
		n.children = make(map[string]struct{})
	}
	n.children[name] = struct{}{}
}

// NewFromStorage rebuilds a tree from the nodes of a storage.Backend's
// Load, in any order. See Builder.
func NewFromStorage(nodes []storage.Node) (*Tree, error) {
	b := NewBuilder()
	for i := range nodes {
		if err := b.Add(nodes[i]); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// Builder rebuilds a tree from stored nodes streamed one at a time, so a
// restart never holds a second copy of the whole tree. Add takes
// ownership of the node's Data and ACL. Identical ACL lists are stored
// once (most nodes share a handful of ACLs), as ZooKeeper's ACL cache
// does.
type Builder struct {
	t    *Tree
	acls map[string][]znode.ACL
	err  error
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder {
	return &Builder{t: newEmpty(), acls: make(map[string][]znode.ACL)}
}

// Add adds one stored node. Parents may come after their children.
func (b *Builder) Add(sn storage.Node) error {
	if b.err != nil {
		return b.err
	}
	t := b.t
	if err := znode.ValidatePath(sn.Path); err != nil {
		b.err = fmt.Errorf("tree: restore: %w", err)
		return b.err
	}
	if _, dup := t.nodes[sn.Path]; dup {
		b.err = fmt.Errorf("tree: restore: %w: path %q stored twice", znode.ErrBadArguments, sn.Path)
		return b.err
	}
	if sn.EphemeralOwner&ttlHighByte == ttlHighByte && sn.EphemeralOwner&ttlFeatureMask != 0 {
		b.err = fmt.Errorf("tree: restore: %w: node %q has unknown ephemeralOwner %#x",
			znode.ErrBadArguments, sn.Path, uint64(sn.EphemeralOwner))
		return b.err
	}
	t.nodes[sn.Path] = &node{
		data:     sn.Data,
		acl:      b.shared(sn.ACL),
		czxid:    sn.Czxid,
		mzxid:    sn.Mzxid,
		ctime:    sn.Ctime,
		mtime:    sn.Mtime,
		pzxid:    sn.Pzxid,
		owner:    sn.EphemeralOwner,
		version:  sn.Version,
		cversion: sn.Cversion,
		aversion: sn.Aversion,
	}
	return nil
}

// shared returns the one stored copy of an ACL list equal to acl. ACL
// slices are never modified in place (setACL stores a new one), so
// sharing is safe.
func (b *Builder) shared(acl []znode.ACL) []znode.ACL {
	var key strings.Builder
	for _, a := range acl {
		fmt.Fprintf(&key, "%d:%s:%s\x00", a.Perms, a.ID.Scheme, a.ID.ID)
	}
	if s, ok := b.acls[key.String()]; ok {
		return s
	}
	b.acls[key.String()] = acl
	return acl
}

// Finish links every node to its parent and returns the tree. The builder
// must not be used afterwards.
func (b *Builder) Finish() (*Tree, error) {
	if b.err != nil {
		return nil, b.err
	}
	t := b.t
	b.t, b.acls = nil, nil
	t.addSpecial()
	for p, n := range t.nodes {
		if p != rootPath {
			parent, name := splitPath(p)
			pn := t.nodes[parent]
			if pn == nil {
				return nil, fmt.Errorf("tree: restore: %w: parent of %q is missing", znode.ErrBadArguments, p)
			}
			if kindOf(pn.owner) == kindEphemeral {
				return nil, fmt.Errorf("tree: restore: %w: %q is a child of an ephemeral node", znode.ErrBadArguments, p)
			}
			pn.addChild(name)
		}
		t.index(p, n)
		t.dataSize += nodeSize(p, n)
	}
	return t, nil
}

// splitPath splits a path that has a '/' at its last slash into the
// parent path ("/" for top-level nodes) and the last name.
func splitPath(p string) (parent, name string) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return rootPath, p[i+1:]
	}
	return p[:i], p[i+1:]
}

// index records n in the ephemeral, container or TTL set its owner says.
func (t *Tree) index(path string, n *node) {
	switch kindOf(n.owner) {
	case kindEphemeral:
		set := t.ephemerals[n.owner]
		if set == nil {
			set = make(map[string]struct{})
			t.ephemerals[n.owner] = set
		}
		set[path] = struct{}{}
	case kindContainer:
		t.containers[path] = struct{}{}
	case kindTTL:
		t.ttls[path] = struct{}{}
	}
}

func (t *Tree) unindex(path string, n *node) {
	switch kindOf(n.owner) {
	case kindEphemeral:
		if set := t.ephemerals[n.owner]; set != nil {
			delete(set, path)
			if len(set) == 0 {
				delete(t.ephemerals, n.owner)
			}
		}
	case kindContainer:
		delete(t.containers, path)
	case kindTTL:
		delete(t.ttls, path)
	}
}

// Nodes returns the stored form of every node, sorted by path: what a
// backend would need to rebuild this tree. The Data and ACL slices are
// shared with the tree and must not be modified.
func (t *Tree) Nodes() []storage.Node {
	out := make([]storage.Node, 0, len(t.nodes))
	for p, n := range t.nodes {
		out = append(out, n.record(p))
	}
	slices.SortFunc(out, func(a, b storage.Node) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Records returns the stored form of every node in no particular order:
// Nodes without the sort, for a consistent copy taken under the caller's
// lock (a raft snapshot), where the sort would double the time the lock
// is held. The Data and ACL slices are shared with the tree and must not
// be modified.
func (t *Tree) Records() []storage.Node {
	out := make([]storage.Node, 0, len(t.nodes))
	for p, n := range t.nodes {
		out = append(out, n.record(p))
	}
	return out
}

// Len returns the number of nodes, the four special ones included (4 for a
// new tree). ZooKeeper's znode_count metric is one more, because its node
// table also holds "" as an alias of the root.
func (t *Tree) Len() int { return len(t.nodes) }

// ApproximateDataSize returns the sum over all nodes of the path length
// plus the data length, as ZooKeeper's approximate_data_size metric does.
func (t *Tree) ApproximateDataSize() int64 { return t.dataSize }

// EphemeralCount returns the number of normal ephemeral nodes (containers
// and TTL nodes are not counted).
func (t *Tree) EphemeralCount() int {
	c := 0
	for _, set := range t.ephemerals {
		c += len(set)
	}
	return c
}

// EphemeralOwners returns the sessions that own at least one normal
// ephemeral node, sorted. After a restart the server kills the ones that
// are not among the restored sessions.
func (t *Tree) EphemeralOwners() []int64 {
	out := make([]int64, 0, len(t.ephemerals))
	for id := range t.ephemerals {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Stat returns the stat and ACL of path without any permission check, for
// setWatches replay and for filtering events by ACL. ok is false when the
// node does not exist. The ACL is shared with the tree.
func (t *Tree) Stat(path string) (st znode.Stat, acl []znode.ACL, ok bool) {
	n := t.nodes[path]
	if n == nil {
		return znode.Stat{}, nil, false
	}
	return n.stat(), n.acl, true
}

func noNode(op, path string) error {
	return fmt.Errorf("tree: %s %q: %w", op, path, znode.ErrNoNode)
}

func noAuth(op, path string) error {
	return fmt.Errorf("tree: %s %q: %w", op, path, znode.ErrNoAuth)
}

// readable returns the node at path if it exists and auth may READ it.
func (t *Tree) readable(op, path string, auth []znode.ID) (*node, error) {
	n := t.nodes[path]
	if n == nil {
		return nil, noNode(op, path)
	}
	if !znode.Allowed(n.acl, auth, znode.PermRead) {
		return nil, noAuth(op, path)
	}
	return n, nil
}

// GetData returns the data and stat of path. Data is nil for a node
// created with null data and is shared with the tree (read-only). Errors:
// NoNode, then NoAuth (READ).
func (t *Tree) GetData(path string, auth []znode.ID) ([]byte, znode.Stat, error) {
	n, err := t.readable("getData", path, auth)
	if err != nil {
		return nil, znode.Stat{}, err
	}
	return n.data, n.stat(), nil
}

// Exists returns the stat of path. Errors: BadArguments for a path with a
// NUL character, NoNode, then NoAuth when the node exists but auth may
// not READ it. (The server registers an exists watch even on NoNode.)
func (t *Tree) Exists(path string, auth []znode.ID) (znode.Stat, error) {
	if strings.IndexByte(path, 0) >= 0 {
		return znode.Stat{}, fmt.Errorf("tree: exists %q: %w: path contains a null character", path, znode.ErrBadArguments)
	}
	n, err := t.readable("exists", path, auth)
	if err != nil {
		return znode.Stat{}, err
	}
	return n.stat(), nil
}

// Children returns the names of path's children, sorted, and its stat.
// Errors: NoNode, then NoAuth (READ).
func (t *Tree) Children(path string, auth []znode.ID) ([]string, znode.Stat, error) {
	n, err := t.readable("getChildren", path, auth)
	if err != nil {
		return nil, znode.Stat{}, err
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, n.stat(), nil
}

// GetACL returns a copy of path's ACL and its stat. It needs READ or
// ADMIN; a caller without ADMIN sees digest ids redacted to "user:x", as
// ZooKeeper does since 3.6. Errors: NoNode, then NoAuth.
func (t *Tree) GetACL(path string, auth []znode.ID) ([]znode.ACL, znode.Stat, error) {
	n := t.nodes[path]
	if n == nil {
		return nil, znode.Stat{}, noNode("getACL", path)
	}
	if !znode.Allowed(n.acl, auth, znode.PermRead|znode.PermAdmin) {
		return nil, znode.Stat{}, noAuth("getACL", path)
	}
	out := slices.Clone(n.acl)
	if !znode.Allowed(n.acl, auth, znode.PermAdmin) {
		for i := range out {
			if out[i].ID.Scheme != "digest" {
				continue
			}
			if j := strings.IndexByte(out[i].ID.ID, ':'); j >= 0 {
				out[i].ID.ID = out[i].ID.ID[:j] + ":x"
			}
		}
	}
	return out, n.stat(), nil
}

// AllChildrenNumber returns the number of all descendants of path, not
// only its children: for "/" every node but the root (3 in a new tree).
// Errors: NoNode, then NoAuth (READ).
func (t *Tree) AllChildrenNumber(path string, auth []znode.ID) (int32, error) {
	n, err := t.readable("getAllChildrenNumber", path, auth)
	if err != nil {
		return 0, err
	}
	if path == rootPath {
		return int32(len(t.nodes) - 1), nil
	}
	var count int32
	stack := []string{path}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		cur := n
		if p != path {
			cur = t.nodes[p]
		}
		for name := range cur.children {
			count++
			if c := t.nodes[znode.Join(p, name)]; c != nil && len(c.children) > 0 {
				stack = append(stack, znode.Join(p, name))
			}
		}
	}
	return count, nil
}

// SessionEphemerals returns the paths of the normal ephemeral nodes owned
// by session, sorted.
func (t *Tree) SessionEphemerals(session int64) []string {
	set := t.ephemerals[session]
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Ephemerals answers getEphemerals: the session's normal ephemeral paths
// that start with prefix (a plain string prefix, not path-aware), sorted.
// A prefix that is empty, blank or "/" selects all of them. There is no
// ACL check and no error.
func (t *Tree) Ephemerals(session int64, prefix string) []string {
	trimmed := strings.TrimFunc(prefix, func(r rune) bool { return r <= ' ' })
	all := t.SessionEphemerals(session)
	if trimmed == "" || trimmed == rootPath {
		return all
	}
	out := all[:0]
	for _, p := range all {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return out
}

// ReapCandidates returns the container and TTL nodes that should be
// deleted at time now (ms), sorted: containers without children that have
// had a child, or whose mtime is more than maxNeverUsedMs ago when
// maxNeverUsedMs is not 0; TTL nodes without children whose mtime is more
// than their TTL ago. The server deletes them with DeleteContainer.
func (t *Tree) ReapCandidates(now int64, maxNeverUsedMs int64) []string {
	var out []string
	for p := range t.containers {
		n := t.nodes[p]
		if n == nil || len(n.children) > 0 {
			continue
		}
		if n.cversion > 0 || (maxNeverUsedMs != 0 && now-n.mtime > maxNeverUsedMs) {
			out = append(out, p)
		}
	}
	for p := range t.ttls {
		n := t.nodes[p]
		if n == nil || len(n.children) > 0 {
			continue
		}
		if ttl := n.owner & znode.MaxTTL; ttl != 0 && now-n.mtime > ttl {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
