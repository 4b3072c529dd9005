package proto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// DefaultMaxPacket is the largest frame payload accepted when a caller
// passes maxLen <= 0 to ReadFrame. It is ZooKeeper's default jute.maxbuffer
// (0xfffff bytes, one byte short of 1 MiB), the limit both the Java server
// and the Java client apply, so a larger value would only let zkx send or
// accept packets real clients reject.
const DefaultMaxPacket = 0xfffff

// FrameTooLargeError reports a frame whose length prefix is negative or
// above the limit. The payload has not been read, so the stream is no
// longer in sync and the connection must be closed.
type FrameTooLargeError struct {
	Len int // the declared length; may be negative
	Max int // the limit in force
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("proto: frame length %d out of range [0, %d]", e.Len, e.Max)
}

// ReadFrame reads one frame: a 4-byte big-endian length and that many bytes
// of payload. The payload is read into buf when cap(buf) is large enough,
// otherwise into a new slice; the result aliases that storage, so decode
// it (Decoder copies what it returns) before reusing buf.
//
// A length outside [0, maxLen] gives *FrameTooLargeError without reading
// the payload. maxLen <= 0 means DefaultMaxPacket. A clean end of stream
// before the length gives io.EOF; a stream ending inside a frame gives
// io.ErrUnexpectedEOF.
func ReadFrame(r *bufio.Reader, maxLen int, buf []byte) ([]byte, error) {
	if maxLen <= 0 {
		maxLen = DefaultMaxPacket
	}
	hdr, err := r.Peek(4)
	if err != nil {
		if len(hdr) > 0 && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr)))
	if _, err := r.Discard(4); err != nil {
		return nil, err
	}
	if n < 0 || n > maxLen {
		return nil, &FrameTooLargeError{Len: n, Max: maxLen}
	}
	if cap(buf) >= n {
		buf = buf[:n]
	} else {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// BeginFrame reserves a 4-byte length prefix and returns its offset, to be
// passed to EndFrame once the payload has been encoded. Together they let
// a whole frame be built in one buffer with one back-patch.
func (e *Encoder) BeginFrame() int {
	start := len(e.buf)
	e.buf = append(e.buf, 0, 0, 0, 0)
	return start
}

// EndFrame writes the length of everything encoded since BeginFrame
// returned start into that frame's prefix.
func (e *Encoder) EndFrame(start int) {
	if start < 0 || start+4 > len(e.buf) {
		e.failf("EndFrame(%d) without a matching BeginFrame", start)
		return
	}
	n := len(e.buf) - start - 4
	if n > math.MaxInt32 {
		e.failf("frame of %d bytes is too long for the wire", n)
		return
	}
	binary.BigEndian.PutUint32(e.buf[start:], uint32(n))
}

// finishFrame closes the frame opened at start. If encoding failed since,
// the frame is removed and the error returned and cleared, leaving the
// Encoder as it was before the frame so the caller can write another reply.
func (e *Encoder) finishFrame(start int) error {
	e.EndFrame(start)
	if err := e.err; err != nil {
		e.buf = e.buf[:start]
		e.err = nil
		return err
	}
	return nil
}

// AppendFrame appends a complete frame holding body (which may be nil for
// an empty frame). This is the form of the handshake: a bare
// ConnectRequest or ConnectResponse with no header.
func (e *Encoder) AppendFrame(body Encodable) error {
	if e.err != nil {
		return e.err
	}
	start := e.BeginFrame()
	if body != nil {
		body.Encode(e)
	}
	return e.finishFrame(start)
}

// AppendReply appends a complete reply frame: ReplyHeader then body, or the
// header alone when body is nil. On error nothing is appended.
func (e *Encoder) AppendReply(h ReplyHeader, body Encodable) error {
	if e.err != nil {
		return e.err
	}
	start := e.BeginFrame()
	h.Encode(e)
	if body != nil {
		body.Encode(e)
	}
	return e.finishFrame(start)
}

// AppendRequest appends a complete request frame: RequestHeader then body,
// or the header alone when body is nil. On error nothing is appended.
func (e *Encoder) AppendRequest(h RequestHeader, body Encodable) error {
	if e.err != nil {
		return e.err
	}
	start := e.BeginFrame()
	h.Encode(e)
	if body != nil {
		body.Encode(e)
	}
	return e.finishFrame(start)
}

// AppendNotification appends a watch notification frame: a ReplyHeader
// with xid -1, the given zxid and err 0, then the WatcherEvent.
func (e *Encoder) AppendNotification(zxid int64, ev *WatcherEvent) {
	start := e.BeginFrame()
	h := ReplyHeader{Xid: XidNotification, Zxid: zxid}
	h.Encode(e)
	ev.Encode(e)
	e.EndFrame(start)
}

// AppendFrame appends to dst one frame whose payload is written by fn and
// returns the extended slice. If encoding fails, dst is returned unchanged
// with the error.
func AppendFrame(dst []byte, fn func(*Encoder)) ([]byte, error) {
	e := Encoder{buf: dst}
	start := e.BeginFrame()
	fn(&e)
	err := e.finishFrame(start)
	return e.buf, err
}

// AppendReply appends one reply frame (header, then body unless nil) to dst.
// If encoding fails, dst is returned unchanged with the error.
func AppendReply(dst []byte, h ReplyHeader, body Encodable) ([]byte, error) {
	e := Encoder{buf: dst}
	err := e.AppendReply(h, body)
	return e.buf, err
}

// AppendRequest appends one request frame (header, then body unless nil) to
// dst. If encoding fails, dst is returned unchanged with the error.
func AppendRequest(dst []byte, h RequestHeader, body Encodable) ([]byte, error) {
	e := Encoder{buf: dst}
	err := e.AppendRequest(h, body)
	return e.buf, err
}

// AppendNotification appends one watch notification frame to dst.
func AppendNotification(dst []byte, zxid int64, ev *WatcherEvent) []byte {
	e := Encoder{buf: dst}
	e.AppendNotification(zxid, ev)
	return e.buf
}

// Marshal returns the encoding of r with no frame.
func Marshal(r Encodable) ([]byte, error) {
	var e Encoder
	r.Encode(&e)
	if e.err != nil {
		return nil, e.err
	}
	return e.buf, nil
}

// Unmarshal decodes r from b. Trailing bytes are ignored, as ZooKeeper
// ignores them when it reads a request body.
func Unmarshal(b []byte, r Decodable) error {
	d := Decoder{b: b}
	return r.Decode(&d)
}
