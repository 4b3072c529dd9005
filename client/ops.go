package client

import (
	"context"
	"fmt"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

func validatePath(p string) error {
	if err := znode.ValidatePath(p); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// CreateOptions select the kind of node Create makes. The zero value is
// a persistent node with OpenACLUnsafe.
type CreateOptions struct {
	// Mode is the node's mode: persistent, ephemeral, sequential,
	// container or TTL.
	Mode CreateMode
	// ACL is the node's ACL. nil means OpenACLUnsafe.
	ACL []ACL
	// TTL is the lifetime of a TTL node (ModePersistentWithTTL,
	// ModePersistentSequentialWithTTL) without changes or children; it is
	// required for those modes and must be zero for the others. The server
	// must have TTL nodes enabled.
	TTL time.Duration
}

// createRequest builds the opcode and body for a create, validating what
// the server would refuse anyway so the caller gets BadArguments early.
func (c *Client) createRequest(path string, data []byte, o CreateOptions) (int32, proto.Encodable, error) {
	if !o.Mode.Valid() {
		return 0, nil, wrapOp(proto.OpCreate, path, znode.ErrBadArguments)
	}
	check := path
	if o.Mode.Sequential() {
		check += "1" // a sequential path may end in "/"
	}
	if err := validatePath(check); err != nil {
		return 0, nil, err
	}
	if o.Mode.TTL() != (o.TTL != 0) || o.TTL < 0 {
		return 0, nil, wrapOp(proto.OpCreateTTL, path, znode.ErrBadArguments)
	}
	acl := o.ACL
	if acl == nil {
		acl = OpenACLUnsafe
	}
	sp := c.prefix(path)
	switch {
	case o.Mode.TTL():
		return proto.OpCreateTTL, &proto.CreateTTLRequest{Path: sp, Data: data, ACL: acl, Flags: int32(o.Mode), TTL: o.TTL.Milliseconds()}, nil
	case o.Mode.Container():
		return proto.OpCreateContainer, &proto.CreateRequest{Path: sp, Data: data, ACL: acl, Flags: int32(o.Mode)}, nil
	}
	return proto.OpCreate2, &proto.CreateRequest{Path: sp, Data: data, ACL: acl, Flags: int32(o.Mode)}, nil
}

// Create creates a node and returns its path (with the sequence suffix for
// sequential modes, relative to the chroot) and its Stat. nil data is
// stored as null data, distinct from empty data.
func (c *Client) Create(ctx context.Context, path string, data []byte, opts CreateOptions) (string, Stat, error) {
	op, body, err := c.createRequest(path, data, opts)
	if err != nil {
		return "", Stat{}, err
	}
	var resp proto.Create2Response
	code, err := c.submit(ctx, newRequest(op, body, &resp))
	if err != nil {
		return "", Stat{}, err
	}
	if code != proto.CodeOk {
		return "", Stat{}, opError(op, path, code)
	}
	return c.clientPath(resp.Path), resp.Stat, nil
}

// Delete deletes a node. version -1 matches any version.
func (c *Client) Delete(ctx context.Context, path string, version int32) error {
	sp, err := c.serverPath(path)
	if err != nil {
		return err
	}
	code, err := c.submit(ctx, newRequest(proto.OpDelete, &proto.DeleteRequest{Path: sp, Version: version}, nil))
	if err != nil {
		return err
	}
	return opError(proto.OpDelete, path, code)
}

// Exists reports whether a node exists, with its Stat when it does.
func (c *Client) Exists(ctx context.Context, path string) (Stat, bool, error) {
	st, ok, _, err := c.exists(ctx, path, false)
	return st, ok, err
}

// ExistsW is Exists that also sets a one-shot watch, whether or not the
// node exists. The channel receives one event: NodeCreated, NodeDeleted
// or NodeDataChanged, or a removal or end-of-session event. It is nil
// when an error is returned.
func (c *Client) ExistsW(ctx context.Context, path string) (Stat, bool, <-chan Event, error) {
	return c.exists(ctx, path, true)
}

func (c *Client) exists(ctx context.Context, path string, watch bool) (Stat, bool, <-chan Event, error) {
	sp, err := c.serverPath(path)
	if err != nil {
		return Stat{}, false, nil, err
	}
	var resp proto.StatResponse
	r := newRequest(proto.OpExists, &proto.ExistsRequest{Path: sp, Watch: watch}, &resp)
	var ch chan Event
	if watch {
		ch = make(chan Event, 1)
		r.onReply = func(code int32) {
			switch code {
			case proto.CodeOk:
				c.watches.addOneShot(kindData, sp, ch)
			case proto.CodeNoNode:
				c.watches.addOneShot(kindExist, sp, ch)
			}
		}
	}
	code, err := c.submit(ctx, r)
	switch {
	case err != nil:
		return Stat{}, false, nil, err
	case code == proto.CodeNoNode:
		return Stat{}, false, ch, nil
	case code != proto.CodeOk:
		return Stat{}, false, nil, opError(proto.OpExists, path, code)
	}
	return resp.Stat, true, ch, nil
}

// Get returns a node's data and Stat. Data is nil for a node created with
// null data.
func (c *Client) Get(ctx context.Context, path string) ([]byte, Stat, error) {
	data, st, _, err := c.get(ctx, path, false)
	return data, st, err
}

// GetW is Get that also sets a one-shot data watch (only when the node
// exists): one NodeDataChanged or NodeDeleted, or a removal or
// end-of-session event.
func (c *Client) GetW(ctx context.Context, path string) ([]byte, Stat, <-chan Event, error) {
	return c.get(ctx, path, true)
}

func (c *Client) get(ctx context.Context, path string, watch bool) ([]byte, Stat, <-chan Event, error) {
	sp, err := c.serverPath(path)
	if err != nil {
		return nil, Stat{}, nil, err
	}
	var resp proto.GetDataResponse
	r := newRequest(proto.OpGetData, &proto.GetDataRequest{Path: sp, Watch: watch}, &resp)
	var ch chan Event
	if watch {
		ch = make(chan Event, 1)
		r.onReply = func(code int32) {
			if code == proto.CodeOk {
				c.watches.addOneShot(kindData, sp, ch)
			}
		}
	}
	code, err := c.submit(ctx, r)
	if err != nil {
		return nil, Stat{}, nil, err
	}
	if code != proto.CodeOk {
		return nil, Stat{}, nil, opError(proto.OpGetData, path, code)
	}
	return resp.Data, resp.Stat, ch, nil
}

// Set replaces a node's data if its version matches (-1 matches any) and
// returns the new Stat.
func (c *Client) Set(ctx context.Context, path string, data []byte, version int32) (Stat, error) {
	sp, err := c.serverPath(path)
	if err != nil {
		return Stat{}, err
	}
	var resp proto.SetDataResponse
	code, err := c.submit(ctx, newRequest(proto.OpSetData, &proto.SetDataRequest{Path: sp, Data: data, Version: version}, &resp))
	if err != nil {
		return Stat{}, err
	}
	if code != proto.CodeOk {
		return Stat{}, opError(proto.OpSetData, path, code)
	}
	return resp.Stat, nil
}

// GetACL returns a node's ACL and Stat.
func (c *Client) GetACL(ctx context.Context, path string) ([]ACL, Stat, error) {
	sp, err := c.serverPath(path)
	if err != nil {
		return nil, Stat{}, err
	}
	var resp proto.GetACLResponse
	code, err := c.submit(ctx, newRequest(proto.OpGetACL, &proto.GetACLRequest{Path: sp}, &resp))
	if err != nil {
		return nil, Stat{}, err
	}
	if code != proto.CodeOk {
		return nil, Stat{}, opError(proto.OpGetACL, path, code)
	}
	return resp.ACL, resp.Stat, nil
}

// SetACL replaces a node's ACL if its ACL version matches (-1 matches
// any) and returns the new Stat.
func (c *Client) SetACL(ctx context.Context, path string, acl []ACL, version int32) (Stat, error) {
	sp, err := c.serverPath(path)
	if err != nil {
		return Stat{}, err
	}
	var resp proto.SetACLResponse
	code, err := c.submit(ctx, newRequest(proto.OpSetACL, &proto.SetACLRequest{Path: sp, ACL: acl, Version: version}, &resp))
	if err != nil {
		return Stat{}, err
	}
	if code != proto.CodeOk {
		return Stat{}, opError(proto.OpSetACL, path, code)
	}
	return resp.Stat, nil
}

// Children returns the names of a node's children, in no particular
// order, and the node's Stat.
func (c *Client) Children(ctx context.Context, path string) ([]string, Stat, error) {
	names, st, _, err := c.children(ctx, path, false)
	return names, st, err
}

// ChildrenW is Children that also sets a one-shot child watch (only when
// the node exists): one NodeChildrenChanged or NodeDeleted, or a removal
// or end-of-session event.
func (c *Client) ChildrenW(ctx context.Context, path string) ([]string, Stat, <-chan Event, error) {
	return c.children(ctx, path, true)
}

func (c *Client) children(ctx context.Context, path string, watch bool) ([]string, Stat, <-chan Event, error) {
	sp, err := c.serverPath(path)
	if err != nil {
		return nil, Stat{}, nil, err
	}
	var resp proto.GetChildren2Response
	r := newRequest(proto.OpGetChildren2, &proto.GetChildren2Request{Path: sp, Watch: watch}, &resp)
	var ch chan Event
	if watch {
		ch = make(chan Event, 1)
		r.onReply = func(code int32) {
			if code == proto.CodeOk {
				c.watches.addOneShot(kindChild, sp, ch)
			}
		}
	}
	code, err := c.submit(ctx, r)
	if err != nil {
		return nil, Stat{}, nil, err
	}
	if code != proto.CodeOk {
		return nil, Stat{}, nil, opError(proto.OpGetChildren2, path, code)
	}
	return resp.Children, resp.Stat, ch, nil
}

// Sync waits until the server the client is connected to has caught up
// with the leader for path, and returns the path.
func (c *Client) Sync(ctx context.Context, path string) (string, error) {
	sp, err := c.serverPath(path)
	if err != nil {
		return "", err
	}
	var resp proto.SyncResponse
	code, err := c.submit(ctx, newRequest(proto.OpSync, &proto.SyncRequest{Path: sp}, &resp))
	if err != nil {
		return "", err
	}
	if code != proto.CodeOk {
		return "", opError(proto.OpSync, path, code)
	}
	return c.clientPath(resp.Path), nil
}

// GetEphemerals lists the session's ephemeral nodes whose path starts
// with prefix (a plain string prefix; "/" lists all), relative to the
// chroot.
func (c *Client) GetEphemerals(ctx context.Context, prefix string) ([]string, error) {
	sp, err := c.serverPath(prefix)
	if err != nil {
		return nil, err
	}
	var resp proto.GetEphemeralsResponse
	code, err := c.submit(ctx, newRequest(proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: sp}, &resp))
	if err != nil {
		return nil, err
	}
	if code != proto.CodeOk {
		return nil, opError(proto.OpGetEphemerals, prefix, code)
	}
	out := resp.Ephemerals[:0]
	for _, p := range resp.Ephemerals {
		cp := c.clientPath(p)
		if c.chroot != "" && cp == p {
			continue // outside the chroot
		}
		out = append(out, cp)
	}
	return out, nil
}

// GetAllChildrenNumber returns the number of descendants of a node (all
// levels).
func (c *Client) GetAllChildrenNumber(ctx context.Context, path string) (int, error) {
	sp, err := c.serverPath(path)
	if err != nil {
		return 0, err
	}
	var resp proto.GetAllChildrenNumberResponse
	code, err := c.submit(ctx, newRequest(proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: sp}, &resp))
	if err != nil {
		return 0, err
	}
	if code != proto.CodeOk {
		return 0, opError(proto.OpGetAllChildrenNumber, path, code)
	}
	return int(resp.TotalNumber), nil
}

// WhoAmI returns the identities the server associates with the session.
func (c *Client) WhoAmI(ctx context.Context) ([]ClientInfo, error) {
	var resp proto.WhoAmIResponse
	code, err := c.submit(ctx, newRequest(proto.OpWhoAmI, nil, &resp))
	if err != nil {
		return nil, err
	}
	if code != proto.CodeOk {
		return nil, opError(proto.OpWhoAmI, "", code)
	}
	return resp.ClientInfo, nil
}

// AddAuth adds credentials to the session, e.g. scheme "digest" with
// "user:password". They are sent again on every reconnect. A server that
// refuses them answers AuthFailed and closes the connection; the client
// then reports StateAuthFailed and ends, as ZooKeeper clients do.
func (c *Client) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	pkt := proto.AuthPacket{Scheme: scheme, Auth: append([]byte(nil), auth...)}
	r := newRequest(proto.OpAuth, &pkt, nil)
	r.xid = proto.XidAuth
	r.onReply = nil
	code, err := c.submit(ctx, r)
	if err != nil {
		return err
	}
	if code != proto.CodeOk {
		return opError(proto.OpAuth, "", code)
	}
	c.mu.Lock()
	c.auths = append(c.auths, pkt)
	c.mu.Unlock()
	return nil
}

// AddWatch sets a persistent (AddWatchPersistent) or persistent-recursive
// (AddWatchPersistentRecursive) watch on path, which need not exist. The
// watch stays until Watch.Stop, RemoveWatches or the end of the session,
// and is re-registered after every reconnect (SetWatches2). Events that
// happen while disconnected are not replayed.
func (c *Client) AddWatch(ctx context.Context, path string, mode AddWatchMode) (*Watch, error) {
	if mode != AddWatchPersistent && mode != AddWatchPersistentRecursive {
		return nil, wrapOp(proto.OpAddWatch, path, znode.ErrBadArguments)
	}
	sp, err := c.serverPath(path)
	if err != nil {
		return nil, err
	}
	w := &Watch{c: c, path: path, spath: sp, mode: mode, mb: newMailbox(c.abort)}
	var resp proto.ErrorResponse
	r := newRequest(proto.OpAddWatch, &proto.AddWatchRequest{Path: sp, Mode: int32(mode)}, &resp)
	added := false
	r.onReply = func(code int32) {
		if code == proto.CodeOk {
			added = c.watches.addPersistent(w)
		}
	}
	code, err := c.submit(ctx, r)
	if err == nil && code == proto.CodeOk && !added {
		err = ErrSessionExpired
	}
	if err != nil || code != proto.CodeOk {
		w.mb.close(nil)
		if err != nil {
			return nil, err
		}
		return nil, opError(proto.OpAddWatch, path, code)
	}
	return w, nil
}

// RemoveWatches removes every watch of type typ on path, on the server
// (removeWatches) and locally. Each removed local watch gets its removal
// event (DataWatchRemoved, ChildWatchRemoved or PersistentWatchRemoved,
// after which a persistent Watch's channel is closed). It returns
// ErrNoWatcher when the server, or the client, had no such watch.
func (c *Client) RemoveWatches(ctx context.Context, path string, typ WatcherType) error {
	if !typ.Valid() {
		return wrapOp(proto.OpRemoveWatches, path, znode.ErrBadArguments)
	}
	sp, err := c.serverPath(path)
	if err != nil {
		return err
	}
	if err := c.removeWatchesRPC(ctx, sp, typ); err != nil {
		return wrapOp(proto.OpRemoveWatches, path, err)
	}
	if !c.watches.removeLocal(sp, path, typ) {
		return wrapOp(proto.OpRemoveWatches, path, znode.ErrNoWatcher)
	}
	return nil
}

// removeWatchesRPC sends removeWatches (18) for a server path.
func (c *Client) removeWatchesRPC(ctx context.Context, sp string, typ WatcherType) error {
	code, err := c.submit(ctx, newRequest(proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: sp, Type: int32(typ)}, nil))
	if err != nil {
		return err
	}
	return proto.Error(code)
}

// CheckWatches asks the server whether the session holds a watch of type
// typ on path (checkWatches). It returns nil if so and ErrNoWatcher if
// not; nothing is removed.
func (c *Client) CheckWatches(ctx context.Context, path string, typ WatcherType) error {
	if !typ.Valid() {
		return wrapOp(proto.OpCheckWatches, path, znode.ErrBadArguments)
	}
	sp, err := c.serverPath(path)
	if err != nil {
		return err
	}
	code, err := c.submit(ctx, newRequest(proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: sp, Type: int32(typ)}, nil))
	if err != nil {
		return err
	}
	return opError(proto.OpCheckWatches, path, code)
}
