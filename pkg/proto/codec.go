package proto

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// Decoder reads jute primitives from a byte slice.
//
// Errors are sticky: the first failure (a short read, a negative or
// oversized length) is kept, every later call returns a zero value, and
// Err reports the failure. A record decoder can therefore read all of its
// fields and check Err once at the end. Every error wraps
// znode.ErrMarshalling, which proto.Code maps to MarshallingError (-5).
//
// Buffers and strings returned by a Decoder are copies: they stay valid
// after the underlying slice is reused for the next frame.
//
// A Decoder is not safe for concurrent use. The zero value is an empty
// decoder; Reset points it at new input.
type Decoder struct {
	b   []byte
	off int
	err error
}

// NewDecoder returns a Decoder reading b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Reset makes d read b from the start and clears any error.
func (d *Decoder) Reset(b []byte) { *d = Decoder{b: b} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining returns the number of unread bytes (0 after an error).
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Offset returns the number of bytes consumed so far.
func (d *Decoder) Offset() int { return d.off }

// failf records the first error and makes the rest of the input unreadable.
func (d *Decoder) failf(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("proto: "+format+": %w", append(args, znode.ErrMarshalling)...)
	}
	d.off = len(d.b)
}

// take returns the next n bytes without copying, or nil after recording an
// error when fewer than n remain.
func (d *Decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > d.Remaining() {
		d.failf("short %s: need %d bytes, have %d", what, n, d.Remaining())
		return nil
	}
	p := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return p
}

// Int32 reads a jute int.
func (d *Decoder) Int32() int32 {
	p := d.take(4, "int")
	if p == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(p))
}

// Int64 reads a jute long.
func (d *Decoder) Int64() int64 {
	p := d.take(8, "long")
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

// Bool reads a jute boolean. Like Java's DataInput.readBoolean, any
// non-zero byte is true.
func (d *Decoder) Bool() bool {
	p := d.take(1, "boolean")
	if p == nil {
		return false
	}
	return p[0] != 0
}

// length reads a length or count prefix. It returns -1 for null and
// otherwise a value checked against the remaining input, assuming each
// element takes at least minSize bytes, so a hostile prefix fails before
// anything is allocated.
func (d *Decoder) length(what string, minSize int) int {
	n := d.Int32()
	if d.err != nil {
		return -1
	}
	switch {
	case n == -1:
		return -1
	case n < 0:
		d.failf("negative %s length %d", what, n)
		return -1
	case int64(n)*int64(minSize) > int64(d.Remaining()):
		d.failf("%s length %d exceeds the %d remaining bytes", what, n, d.Remaining())
		return -1
	}
	return int(n)
}

// Buffer reads a jute buffer. A length of -1 gives nil; a length of 0 gives
// an empty, non-nil slice, so null and empty data stay distinct. The
// result is a copy.
func (d *Decoder) Buffer() []byte {
	n := d.length("buffer", 1)
	if n < 0 {
		return nil
	}
	p := d.take(n, "buffer")
	out := make([]byte, n)
	copy(out, p)
	return out
}

// String reads a jute ustring. A length of -1 (null) gives "". The bytes
// are taken as they are: invalid UTF-8 is not replaced, so paths can be
// validated (znode.ValidatePath) rather than silently altered.
func (d *Decoder) String() string {
	n := d.length("string", 1)
	if n <= 0 {
		return ""
	}
	return string(d.take(n, "string"))
}

// Strings reads a jute vector<ustring>. A count of -1 gives nil; a count of
// 0 gives an empty, non-nil slice.
func (d *Decoder) Strings() []string {
	n := d.length("vector<ustring>", 4)
	if n < 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.String()
	}
	if d.err != nil {
		return nil
	}
	return out
}

// Encoder appends jute primitives to a byte slice.
//
// Encoding a well-formed record cannot fail. The exceptions (an operation
// type a multi cannot carry, a buffer longer than an int32 length can
// describe) set a sticky error reported by Err; the frame helpers roll the
// frame back when that happens.
//
// An Encoder is not safe for concurrent use. The zero value is ready to use
// and appends to a nil slice.
type Encoder struct {
	buf []byte
	err error
}

// NewEncoder returns an Encoder that appends to buf (which may be nil or
// hold earlier frames).
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf} }

// Bytes returns everything encoded so far. It aliases the Encoder's buffer
// until the next call that writes.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of bytes encoded so far.
func (e *Encoder) Len() int { return len(e.buf) }

// Reset empties the Encoder, keeping its capacity, and clears any error.
func (e *Encoder) Reset() {
	e.buf = e.buf[:0]
	e.err = nil
}

// Err returns the first encoding error, or nil.
func (e *Encoder) Err() error { return e.err }

func (e *Encoder) failf(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("proto: "+format+": %w", append(args, znode.ErrMarshalling)...)
	}
}

// Int32 appends a jute int.
func (e *Encoder) Int32(v int32) { e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v)) }

// Int64 appends a jute long.
func (e *Encoder) Int64(v int64) { e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v)) }

// Bool appends a jute boolean as 0 or 1.
func (e *Encoder) Bool(v bool) {
	var b byte
	if v {
		b = 1
	}
	e.buf = append(e.buf, b)
}

func (e *Encoder) lengthOK(n int, what string) bool {
	if n > math.MaxInt32 {
		e.failf("%s of %d bytes is too long for the wire", what, n)
		e.Int32(-1)
		return false
	}
	return true
}

// Buffer appends a jute buffer: nil as length -1, anything else (including
// an empty non-nil slice) as its length and bytes.
func (e *Encoder) Buffer(b []byte) {
	if b == nil {
		e.Int32(-1)
		return
	}
	if !e.lengthOK(len(b), "buffer") {
		return
	}
	e.Int32(int32(len(b)))
	e.buf = append(e.buf, b...)
}

// String appends a jute ustring. Go strings have no null, so "" is
// written as length 0.
func (e *Encoder) String(s string) {
	if !e.lengthOK(len(s), "string") {
		return
	}
	e.Int32(int32(len(s)))
	e.buf = append(e.buf, s...)
}

// Strings appends a jute vector<ustring>: nil as count -1, an empty
// non-nil slice as count 0.
func (e *Encoder) Strings(v []string) {
	if v == nil {
		e.Int32(-1)
		return
	}
	if !e.lengthOK(len(v), "vector") {
		return
	}
	e.Int32(int32(len(v)))
	for _, s := range v {
		e.String(s)
	}
}

// nonNilStrings is used by response records whose consumers expect a list:
// a null vector there makes the Java client hand its caller a null list.
func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
