package client

import (
	"context"
	"fmt"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// Op is one operation of a Multi: CreateOp, DeleteOp, SetDataOp or
// CheckOp.
type Op struct {
	path string
	op   proto.MultiOp
	err  error // a problem found when building the op
}

// CreateOp creates a node, like Create.
func CreateOp(path string, data []byte, opts CreateOptions) Op {
	o := Op{path: path}
	var probe Client // no chroot: only for validation and encoding
	code, body, err := probe.createRequest(path, data, opts)
	if err != nil {
		o.err = err
		return o
	}
	switch b := body.(type) {
	case *proto.CreateTTLRequest:
		o.op = proto.MultiOp{Type: code, Path: b.Path, Data: b.Data, ACL: b.ACL, Flags: b.Flags, TTL: b.TTL}
	case *proto.CreateRequest:
		if code == proto.OpCreate2 {
			code = proto.OpCreate
		}
		o.op = proto.MultiOp{Type: code, Path: b.Path, Data: b.Data, ACL: b.ACL, Flags: b.Flags}
	}
	return o
}

// DeleteOp deletes a node if its version matches (-1 matches any).
func DeleteOp(path string, version int32) Op {
	return Op{path: path, op: proto.MultiOp{Type: proto.OpDelete, Path: path, Version: version}}
}

// SetDataOp sets a node's data if its version matches (-1 matches any).
func SetDataOp(path string, data []byte, version int32) Op {
	return Op{path: path, op: proto.MultiOp{Type: proto.OpSetData, Path: path, Data: data, Version: version}}
}

// CheckOp fails the Multi unless the node exists with the given version
// (-1 only checks existence).
func CheckOp(path string, version int32) Op {
	return Op{path: path, op: proto.MultiOp{Type: proto.OpCheck, Path: path, Version: version}}
}

// OpResult is the outcome of one Multi operation.
type OpResult struct {
	// Path is the created path for a create (relative to the chroot),
	// else the op's path.
	Path string
	// Stat is set for SetDataOp and for container and TTL creates (a plain
	// create in a multi reports only its path).
	Stat Stat
	// Err is nil for an op that succeeded, or that was not reached
	// because an earlier op failed and the server reported 0 for it; the
	// failing op carries its own error, the ops after it
	// ErrRuntimeInconsistency.
	Err error
}

// Multi runs ops atomically: all of them or none. It returns one result
// per op and, when the transaction failed, the first op error (wrapped
// with the op's index and path, so errors.Is works).
func (c *Client) Multi(ctx context.Context, ops ...Op) ([]OpResult, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	req := proto.MultiRequest{Ops: make([]proto.MultiOp, len(ops))}
	for i, o := range ops {
		if o.err != nil {
			return nil, fmt.Errorf("client: multi op %d: %w", i, o.err)
		}
		switch o.op.Type {
		case proto.OpCreate, proto.OpCreateContainer, proto.OpCreateTTL:
			// validated by CreateOp
		default:
			if err := validatePath(o.path); err != nil {
				return nil, fmt.Errorf("client: multi op %d: %w", i, err)
			}
		}
		req.Ops[i] = o.op
		req.Ops[i].Path = c.prefix(o.path)
	}
	var resp proto.MultiResponse
	code, err := c.submit(ctx, newRequest(proto.OpMulti, &req, &resp))
	if err != nil {
		return nil, err
	}
	if code != proto.CodeOk {
		return nil, opError(proto.OpMulti, "", code)
	}
	if len(resp.Results) != len(ops) {
		return nil, fmt.Errorf("client: multi: %d results for %d ops: %w", len(resp.Results), len(ops), znode.ErrMarshalling)
	}
	out := make([]OpResult, len(ops))
	var first error
	for i, r := range resp.Results {
		out[i] = OpResult{Path: ops[i].path, Stat: r.Stat}
		switch r.Type {
		case proto.OpCreate, proto.OpCreate2:
			out[i].Path = c.clientPath(r.Path)
		case proto.OpError:
			if r.Err != proto.CodeOk {
				out[i].Err = proto.Error(r.Err)
				if first == nil {
					first = fmt.Errorf("client: multi op %d (%s %s): %w", i, proto.OpName(ops[i].op.Type), ops[i].path, out[i].Err)
				}
			}
		}
	}
	return out, first
}

// ReadOp is one read of a MultiRead: GetDataOp or GetChildrenOp.
type ReadOp struct {
	path string
	op   int32
}

// GetDataOp reads a node's data and Stat in a MultiRead.
func GetDataOp(path string) ReadOp { return ReadOp{path: path, op: proto.OpGetData} }

// GetChildrenOp lists a node's children in a MultiRead.
func GetChildrenOp(path string) ReadOp { return ReadOp{path: path, op: proto.OpGetChildren} }

// ReadResult is the outcome of one MultiRead op: Data and Stat for
// GetDataOp, Children for GetChildrenOp, or Err.
type ReadResult struct {
	Data     []byte
	Stat     Stat
	Children []string
	Err      error
}

// MultiRead runs reads in one round trip. Each read succeeds or fails on
// its own (Err); no watches are set. The returned error reports only a
// failure of the whole request.
func (c *Client) MultiRead(ctx context.Context, ops ...ReadOp) ([]ReadResult, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	req := proto.MultiRequest{Ops: make([]proto.MultiOp, len(ops))}
	for i, o := range ops {
		sp, err := c.serverPath(o.path)
		if err != nil {
			return nil, fmt.Errorf("client: multiRead op %d: %w", i, err)
		}
		req.Ops[i] = proto.MultiOp{Type: o.op, Path: sp}
	}
	var resp proto.MultiResponse
	code, err := c.submit(ctx, newRequest(proto.OpMultiRead, &req, &resp))
	if err != nil {
		return nil, err
	}
	if code != proto.CodeOk {
		return nil, opError(proto.OpMultiRead, "", code)
	}
	if len(resp.Results) != len(ops) {
		return nil, fmt.Errorf("client: multiRead: %d results for %d ops: %w", len(resp.Results), len(ops), znode.ErrMarshalling)
	}
	out := make([]ReadResult, len(ops))
	for i, r := range resp.Results {
		switch r.Type {
		case proto.OpError:
			out[i].Err = wrapOp(ops[i].op, ops[i].path, proto.Error(r.Err))
		default:
			out[i] = ReadResult{Data: r.Data, Stat: r.Stat, Children: r.Children}
		}
	}
	return out, nil
}
