package proto

import "github.com/zkx-dev/zkx/pkg/znode"

// Encodable is a record that can write itself with an Encoder.
type Encodable interface {
	Encode(e *Encoder)
}

// Decodable is a record that can read itself from a Decoder. Decode returns
// the Decoder's sticky error (d.Err()) after reading its fields.
type Decodable interface {
	Decode(d *Decoder) error
}

// Record is implemented by every wire record of this package.
type Record interface {
	Encodable
	Decodable
}

// RequestHeader precedes every request after the handshake (8 bytes).
type RequestHeader struct {
	Xid  int32
	Type int32 // an Op constant
}

func (r *RequestHeader) Encode(e *Encoder) { e.Int32(r.Xid); e.Int32(r.Type) }

func (r *RequestHeader) Decode(d *Decoder) error {
	r.Xid = d.Int32()
	r.Type = d.Int32()
	return d.Err()
}

// ReplyHeader precedes every reply and notification after the handshake
// (16 bytes).
type ReplyHeader struct {
	Xid  int32
	Zxid int64
	Err  int32 // a Code constant
}

func (r *ReplyHeader) Encode(e *Encoder) { e.Int32(r.Xid); e.Int64(r.Zxid); e.Int32(r.Err) }

func (r *ReplyHeader) Decode(d *Decoder) error {
	r.Xid = d.Int32()
	r.Zxid = d.Int64()
	r.Err = d.Int32()
	return d.Err()
}

// ConnectRequest is the first frame a client sends, with no header.
type ConnectRequest struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeOut         int32 // requested session timeout, ms
	SessionID       int64 // 0 for a new session
	Passwd          []byte
	ReadOnly        bool
	// HasReadOnly records whether the trailing readOnly byte was on the
	// wire. go-zookeeper and clients up to 3.3 omit it, and the reply must
	// then omit it too. Encode writes the byte only when it is set.
	HasReadOnly bool
}

func (r *ConnectRequest) Encode(e *Encoder) {
	e.Int32(r.ProtocolVersion)
	e.Int64(r.LastZxidSeen)
	e.Int32(r.TimeOut)
	e.Int64(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

// Decode reads a ConnectRequest. Like ZooKeeper, it treats the readOnly
// byte as present when at least one byte follows the password; anything
// after that byte is ignored.
func (r *ConnectRequest) Decode(d *Decoder) error {
	r.ProtocolVersion = d.Int32()
	r.LastZxidSeen = d.Int64()
	r.TimeOut = d.Int32()
	r.SessionID = d.Int64()
	r.Passwd = d.Buffer()
	r.ReadOnly, r.HasReadOnly = false, false
	if d.Err() == nil && d.Remaining() > 0 {
		r.ReadOnly = d.Bool()
		r.HasReadOnly = true
	}
	return d.Err()
}

// ConnectResponse is the server's answer to a ConnectRequest, with no
// header. TimeOut 0 tells the client its session is invalid or expired.
type ConnectResponse struct {
	ProtocolVersion int32
	TimeOut         int32 // negotiated session timeout, ms
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
	// HasReadOnly makes Encode write the readOnly byte; set it exactly when
	// the ConnectRequest had one. Decode sets it when the byte is present.
	HasReadOnly bool
}

func (r *ConnectResponse) Encode(e *Encoder) {
	e.Int32(r.ProtocolVersion)
	e.Int32(r.TimeOut)
	e.Int64(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

func (r *ConnectResponse) Decode(d *Decoder) error {
	r.ProtocolVersion = d.Int32()
	r.TimeOut = d.Int32()
	r.SessionID = d.Int64()
	r.Passwd = d.Buffer()
	r.ReadOnly, r.HasReadOnly = false, false
	if d.Err() == nil && d.Remaining() > 0 {
		r.ReadOnly = d.Bool()
		r.HasReadOnly = true
	}
	return d.Err()
}

// WatcherEvent is the body of a notification (xid -1).
type WatcherEvent struct {
	Type  int32 // znode.EventType
	State int32 // keeper state; the server always sends znode.StateSyncConnected
	Path  string
}

func (r *WatcherEvent) Encode(e *Encoder) { e.Int32(r.Type); e.Int32(r.State); e.String(r.Path) }

func (r *WatcherEvent) Decode(d *Decoder) error {
	r.Type = d.Int32()
	r.State = d.Int32()
	r.Path = d.String()
	return d.Err()
}

// StatLen is the encoded size of a Stat.
const StatLen = 68

// EncodeStat writes the 11 fields of s in wire order (68 bytes).
func EncodeStat(e *Encoder, s *znode.Stat) {
	e.Int64(s.Czxid)
	e.Int64(s.Mzxid)
	e.Int64(s.Ctime)
	e.Int64(s.Mtime)
	e.Int32(s.Version)
	e.Int32(s.Cversion)
	e.Int32(s.Aversion)
	e.Int64(s.EphemeralOwner)
	e.Int32(s.DataLength)
	e.Int32(s.NumChildren)
	e.Int64(s.Pzxid)
}

// DecodeStat reads a Stat.
func DecodeStat(d *Decoder) znode.Stat {
	return znode.Stat{
		Czxid:          d.Int64(),
		Mzxid:          d.Int64(),
		Ctime:          d.Int64(),
		Mtime:          d.Int64(),
		Version:        d.Int32(),
		Cversion:       d.Int32(),
		Aversion:       d.Int32(),
		EphemeralOwner: d.Int64(),
		DataLength:     d.Int32(),
		NumChildren:    d.Int32(),
		Pzxid:          d.Int64(),
	}
}

// EncodeACLs writes a vector<ACL>: nil as count -1.
func EncodeACLs(e *Encoder, acl []znode.ACL) {
	if acl == nil {
		e.Int32(-1)
		return
	}
	if !e.lengthOK(len(acl), "vector") {
		return
	}
	e.Int32(int32(len(acl)))
	for i := range acl {
		e.Int32(acl[i].Perms)
		e.String(acl[i].ID.Scheme)
		e.String(acl[i].ID.ID)
	}
}

// aclMinLen is the smallest encoded ACL: perms and two empty strings.
const aclMinLen = 12

// DecodeACLs reads a vector<ACL>: count -1 gives nil, 0 an empty slice.
func DecodeACLs(d *Decoder) []znode.ACL {
	n := d.length("vector<ACL>", aclMinLen)
	if n < 0 {
		return nil
	}
	out := make([]znode.ACL, n)
	for i := range out {
		out[i].Perms = d.Int32()
		out[i].ID.Scheme = d.String()
		out[i].ID.ID = d.String()
	}
	if d.Err() != nil {
		return nil
	}
	return out
}
