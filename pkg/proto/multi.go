package proto

import "github.com/zkx-dev/zkx/pkg/znode"

// MultiHeader precedes each operation of a multi request and each result of
// a multi response (9 bytes). A header with Done set ends the list; zkx
// writes {-1, true, -1} there, as ZooKeeper does.
type MultiHeader struct {
	Type int32
	Done bool
	Err  int32
}

// multiHeaderLen is the encoded size of a MultiHeader.
const multiHeaderLen = 9

func (h *MultiHeader) Encode(e *Encoder) { e.Int32(h.Type); e.Bool(h.Done); e.Int32(h.Err) }

func (h *MultiHeader) Decode(d *Decoder) error {
	h.Type = d.Int32()
	h.Done = d.Bool()
	h.Err = d.Int32()
	return d.Err()
}

var multiEnd = MultiHeader{Type: -1, Done: true, Err: -1}

// MultiOp is one operation of a multi (14) or multiRead (22) request. It is
// a flat struct; which fields are on the wire depends on Type:
//
//	create, create2, createContainer  Path, Data, ACL, Flags
//	createTTL                         Path, Data, ACL, Flags, TTL
//	delete, check                     Path, Version
//	setData                           Path, Data, Version
//	getData, getChildren              Path, Watch (multiRead only)
//
// Type is the opcode as sent. ZooKeeper does not trust it for creates; see
// EffectiveType.
type MultiOp struct {
	Type    int32
	Path    string
	Data    []byte
	ACL     []znode.ACL
	Flags   int32
	TTL     int64
	Version int32
	// Watch is carried for the read ops but ZooKeeper ignores it: reads in
	// a multiRead never leave a watch.
	Watch bool
}

// IsRead reports whether the op is one of the reads a multiRead carries.
func (op *MultiOp) IsRead() bool { return op.Type == OpGetData || op.Type == OpGetChildren }

// EffectiveType returns the opcode ZooKeeper executes the op as. Every
// create variant is re-derived from its flags (a TTL mode is createTTL,
// CONTAINER is createContainer, anything else plain create), whatever the
// header said; other ops keep their Type. The type of the op's result
// follows from it: create reports a create result (path only), createTTL
// and createContainer a create2 result (path and Stat).
func (op *MultiOp) EffectiveType() int32 {
	switch op.Type {
	case OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL:
		m := znode.CreateMode(op.Flags)
		switch {
		case m.TTL():
			return OpCreateTTL
		case m.Container():
			return OpCreateContainer
		}
		return OpCreate
	}
	return op.Type
}

func (op *MultiOp) encode(e *Encoder) {
	switch op.Type {
	case OpCreate, OpCreate2, OpCreateContainer:
		e.String(op.Path)
		e.Buffer(op.Data)
		EncodeACLs(e, op.ACL)
		e.Int32(op.Flags)
	case OpCreateTTL:
		e.String(op.Path)
		e.Buffer(op.Data)
		EncodeACLs(e, op.ACL)
		e.Int32(op.Flags)
		e.Int64(op.TTL)
	case OpDelete, OpCheck:
		e.String(op.Path)
		e.Int32(op.Version)
	case OpSetData:
		e.String(op.Path)
		e.Buffer(op.Data)
		e.Int32(op.Version)
	case OpGetData, OpGetChildren:
		e.String(op.Path)
		e.Bool(op.Watch)
	default:
		e.failf("op type %d (%s) cannot be part of a multi", op.Type, OpName(op.Type))
	}
}

func (op *MultiOp) decode(d *Decoder) {
	switch op.Type {
	case OpCreate, OpCreate2, OpCreateContainer:
		op.Path = d.String()
		op.Data = d.Buffer()
		op.ACL = DecodeACLs(d)
		op.Flags = d.Int32()
	case OpCreateTTL:
		op.Path = d.String()
		op.Data = d.Buffer()
		op.ACL = DecodeACLs(d)
		op.Flags = d.Int32()
		op.TTL = d.Int64()
	case OpDelete, OpCheck:
		op.Path = d.String()
		op.Version = d.Int32()
	case OpSetData:
		op.Path = d.String()
		op.Data = d.Buffer()
		op.Version = d.Int32()
	case OpGetData, OpGetChildren:
		op.Path = d.String()
		op.Watch = d.Bool()
	default:
		d.failf("invalid type of op %d in multi", op.Type)
	}
}

// MultiRequest is the body of multi (14) and multiRead (22).
//
// Decode accepts the ops of both, as ZooKeeper's MultiOperationRecord does,
// and like it rejects a request that mixes reads and writes, an op type a
// multi cannot carry, and a list with no end marker, all as
// MarshallingError. Which kind the opcode allows (writes for multi, reads
// for multiRead) is for the server to check.
type MultiRequest struct {
	Ops []MultiOp
}

func (r *MultiRequest) Encode(e *Encoder) {
	for i := range r.Ops {
		h := MultiHeader{Type: r.Ops[i].Type, Done: false, Err: -1}
		h.Encode(e)
		r.Ops[i].encode(e)
	}
	multiEnd.Encode(e)
}

// Decode reads ops until a header with Done set. Each op takes at least a
// 9-byte header, so the input length bounds the number of ops and no count
// from the wire drives an allocation.
func (r *MultiRequest) Decode(d *Decoder) error {
	r.Ops = nil
	var h MultiHeader
	for {
		if h.Decode(d) != nil {
			break
		}
		if h.Done {
			break
		}
		op := MultiOp{Type: h.Type}
		op.decode(d)
		if d.Err() != nil {
			break
		}
		if len(r.Ops) > 0 && r.Ops[0].IsRead() != op.IsRead() {
			d.failf("multi mixes read and write operations")
			break
		}
		r.Ops = append(r.Ops, op)
	}
	if d.Err() != nil {
		r.Ops = nil
	}
	return d.Err()
}

// MultiResult is one result of a multi response, a flat struct whose wire
// body depends on Type:
//
//	create (1)                 Path
//	create2 (15)               Path, Stat (also for createTTL/createContainer)
//	delete (2), check (13)     nothing
//	setData (5)                Stat
//	getChildren (8)            Children
//	getData (4)                Data, Stat
//	error (-1)                 Err, in the header and again as the body
//
// Err is meaningful only for Type OpError; for any other type the header
// carries 0. In a failed write multi, the ops before the failing one are
// error results with Err 0 and those after it RuntimeInconsistency.
type MultiResult struct {
	Type     int32
	Err      int32
	Path     string
	Stat     znode.Stat
	Data     []byte
	Children []string
}

// MultiResponse is the reply to multi (14) and multiRead (22).
type MultiResponse struct {
	Results []MultiResult
}

func (r *MultiResponse) Encode(e *Encoder) {
	for i := range r.Results {
		res := &r.Results[i]
		h := MultiHeader{Type: res.Type}
		if res.Type == OpError {
			h.Err = res.Err
		}
		h.Encode(e)
		switch res.Type {
		case OpCreate:
			e.String(res.Path)
		case OpCreate2:
			e.String(res.Path)
			EncodeStat(e, &res.Stat)
		case OpDelete, OpCheck:
		case OpSetData:
			EncodeStat(e, &res.Stat)
		case OpGetChildren:
			e.Strings(nonNilStrings(res.Children))
		case OpGetData:
			e.Buffer(res.Data)
			EncodeStat(e, &res.Stat)
		case OpError:
			e.Int32(res.Err)
		default:
			e.failf("result type %d (%s) cannot be part of a multi response", res.Type, OpName(res.Type))
		}
	}
	multiEnd.Encode(e)
}

// Decode reads results until a header with Done set. The Err of an error
// result is taken from its body, as ZooKeeper's client does.
func (r *MultiResponse) Decode(d *Decoder) error {
	r.Results = nil
	var h MultiHeader
	for {
		if h.Decode(d) != nil || h.Done {
			break
		}
		res := MultiResult{Type: h.Type}
		switch h.Type {
		case OpCreate:
			res.Path = d.String()
		case OpCreate2:
			res.Path = d.String()
			res.Stat = DecodeStat(d)
		case OpDelete, OpCheck:
		case OpSetData:
			res.Stat = DecodeStat(d)
		case OpGetChildren:
			res.Children = nonNilStrings(d.Strings())
		case OpGetData:
			res.Data = d.Buffer()
			res.Stat = DecodeStat(d)
		case OpError:
			res.Err = d.Int32()
		default:
			d.failf("invalid result type %d in multi response", h.Type)
		}
		if d.Err() != nil {
			break
		}
		r.Results = append(r.Results, res)
	}
	if d.Err() != nil {
		r.Results = nil
	}
	return d.Err()
}
