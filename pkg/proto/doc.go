// Package proto is zkx's codec for the ZooKeeper client wire protocol: jute
// encoding, length-prefixed frames, opcodes, special xids, and the mapping
// between Go errors and ZooKeeper error codes.
//
// # Model
//
// Every message in both directions is a frame: a 4-byte big-endian length
// and a payload. The first frame of a connection is a bare ConnectRequest
// (answered by a bare ConnectResponse); every later request is a
// RequestHeader followed by the op's record, and every reply a ReplyHeader
// followed by the response record when the error code is 0. Watch events
// are replies with xid XidNotification and a WatcherEvent body.
//
// Records are plain structs with hand-written Encode and Decode methods,
// one per jute record, in field order, with no reflection. Encoder appends
// to a byte slice and never fails for a well-formed record; Decoder reads a
// slice with a sticky error, so a record reads all its fields and checks
// once. Records whose wire shape is shared get one type and aliases
// (GetDataRequest = PathWatchRequest). Multi requests and responses use the
// flat MultiOp and MultiResult structs, encoded per their Type.
//
// Jute null is kept where it means something: a nil []byte is a null
// buffer (a node with null data reads back as null, not empty), a nil
// []string or []znode.ACL a null vector. Go strings have no null, so a
// null ustring decodes as "". Response lists handed to applications
// (children, ephemerals) are never sent as null.
//
// # Frames
//
// ReadFrame reads one frame, refusing a length outside [0, max] with a
// *FrameTooLargeError before reading the payload. On the write side a
// whole frame is built in one buffer with one length back-patch:
// Encoder.BeginFrame reserves the prefix, EndFrame fills it in. The
// AppendReply, AppendRequest and AppendNotification helpers wrap that; on
// an encoding error they leave the buffer as it was.
//
// # Errors
//
// Every decoding failure wraps znode.ErrMarshalling, which Code maps to
// MarshallingError (-5), the code ZooKeeper answers an undecodable request
// with. Code is the one place that maps Go errors to wire codes, by
// errors.Is against the znode sentinels; Error maps back for the client.
//
// # Safety
//
// Decoding is safe on hostile input: a length or count is checked against
// the bytes that remain before anything is allocated, so a small frame can
// never make the decoder allocate more than a few times its own size, and
// no input panics. Returned buffers and strings are copies, so a frame
// buffer can be reused as soon as its records are decoded. Trailing bytes
// after a record are ignored, as ZooKeeper ignores them.
//
// # Concurrency
//
// Encoder and Decoder are not safe for concurrent use; give each goroutine
// its own (a connection's reader owns one Decoder, its writer one Encoder).
// Records are plain values. Package-level functions are safe for
// concurrent use.
package proto
