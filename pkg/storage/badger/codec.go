package badger

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// Key prefixes, one per record kind. See doc.go for the layout.
const (
	nodePrefix    = "n/" // + path                      -> node record
	sessionPrefix = "s/" // + 8-byte big-endian id      -> session record
	metaPrefix    = "m/" // + name                      -> meta value
)

var (
	keyFormat   = []byte(metaPrefix + "format")   // uint32 big-endian format version
	keyLastZxid = []byte(metaPrefix + "lastzxid") // int64 big-endian
)

// formatVersion is the version of the key layout and of the store as a
// whole, kept under keyFormat. A store written by a newer zkx (a larger
// number) is refused rather than misread.
const formatVersion uint32 = 1

// recordVersion is the first byte of every node, session and event
// record, so one record kind can change its encoding without a new store
// format.
const recordVersion byte = 1

// Node record flags.
const flagNilData byte = 1 << 0

// errCorrupt is wrapped by every decoding error; Load and Open wrap it
// further with the key and the data directory.
var errCorrupt = errors.New("corrupt record")

func nodeKey(dst []byte, path string) []byte {
	dst = append(dst, nodePrefix...)
	return append(dst, path...)
}

func sessionKey(dst []byte, id int64) []byte {
	dst = append(dst, sessionPrefix...)
	return binary.BigEndian.AppendUint64(dst, uint64(id))
}

// appendNode appends the record of n (everything but its path, which is
// the key) to dst:
//
//	version u8 | flags u8 | czxid mzxid ctime mtime i64 | version cversion
//	aversion i32 | ephemeralOwner pzxid i64 | acl count uvarint, each: perms
//	i32, scheme uvarint-len bytes, id uvarint-len bytes | data uvarint-len bytes
//
// Fixed-width integers are big-endian. Nil data is flagged, so it stays
// distinct from empty data.
func appendNode(dst []byte, n *storage.Node) []byte {
	var flags byte
	if n.Data == nil {
		flags |= flagNilData
	}
	dst = append(dst, recordVersion, flags)
	dst = binary.BigEndian.AppendUint64(dst, uint64(n.Czxid))
	dst = binary.BigEndian.AppendUint64(dst, uint64(n.Mzxid))
	dst = binary.BigEndian.AppendUint64(dst, uint64(n.Ctime))
	dst = binary.BigEndian.AppendUint64(dst, uint64(n.Mtime))
	dst = binary.BigEndian.AppendUint32(dst, uint32(n.Version))
	dst = binary.BigEndian.AppendUint32(dst, uint32(n.Cversion))
	dst = binary.BigEndian.AppendUint32(dst, uint32(n.Aversion))
	dst = binary.BigEndian.AppendUint64(dst, uint64(n.EphemeralOwner))
	dst = binary.BigEndian.AppendUint64(dst, uint64(n.Pzxid))
	dst = binary.AppendUvarint(dst, uint64(len(n.ACL)))
	for _, a := range n.ACL {
		dst = binary.BigEndian.AppendUint32(dst, uint32(a.Perms))
		dst = appendString(dst, a.ID.Scheme)
		dst = appendString(dst, a.ID.ID)
	}
	dst = binary.AppendUvarint(dst, uint64(len(n.Data)))
	return append(dst, n.Data...)
}

// nodeSize is an upper bound of len(appendNode(nil, n)).
func nodeSize(n *storage.Node) int {
	size := 2 + 9*8 + binary.MaxVarintLen64*2 + len(n.Data)
	for _, a := range n.ACL {
		size += 4 + 2*binary.MaxVarintLen64 + len(a.ID.Scheme) + len(a.ID.ID)
	}
	return size
}

// decodeNode decodes a node record into n, leaving n.Path alone. Every
// byte slice and string in n is freshly allocated, so rec may be reused.
func decodeNode(rec []byte, n *storage.Node) error {
	d := decoder{b: rec}
	if v := d.u8(); d.err == nil && v != recordVersion {
		return fmt.Errorf("%w: node record version %d, this zkx reads %d", errCorrupt, v, recordVersion)
	}
	flags := d.u8()
	if flags&^flagNilData != 0 {
		return fmt.Errorf("%w: unknown node flags %#x", errCorrupt, flags)
	}
	n.Czxid = int64(d.u64())
	n.Mzxid = int64(d.u64())
	n.Ctime = int64(d.u64())
	n.Mtime = int64(d.u64())
	n.Version = int32(d.u32())
	n.Cversion = int32(d.u32())
	n.Aversion = int32(d.u32())
	n.EphemeralOwner = int64(d.u64())
	n.Pzxid = int64(d.u64())
	count := d.count(4 + 1 + 1) // the smallest ACL entry
	n.ACL = nil
	if count > 0 {
		n.ACL = make([]znode.ACL, count)
		for i := range n.ACL {
			n.ACL[i].Perms = int32(d.u32())
			n.ACL[i].ID.Scheme = string(d.bytes())
			n.ACL[i].ID.ID = string(d.bytes())
		}
	}
	data := d.bytes()
	if err := d.finish("node"); err != nil {
		return err
	}
	switch {
	case flags&flagNilData != 0:
		if len(data) != 0 {
			return fmt.Errorf("%w: node flagged as null data has %d bytes", errCorrupt, len(data))
		}
		n.Data = nil
	default:
		n.Data = append(make([]byte, 0, len(data)), data...)
	}
	return nil
}

// appendSession appends the record of s (everything but its id, which is
// in the key): version u8 | timeout i32 | passwd uvarint-len bytes.
func appendSession(dst []byte, s *storage.Session) []byte {
	dst = append(dst, recordVersion)
	dst = binary.BigEndian.AppendUint32(dst, uint32(s.Timeout))
	dst = binary.AppendUvarint(dst, uint64(len(s.Passwd)))
	return append(dst, s.Passwd...)
}

func sessionSize(s *storage.Session) int { return 1 + 4 + binary.MaxVarintLen64 + len(s.Passwd) }

// decodeSession decodes a session record into s, leaving s.ID alone.
func decodeSession(rec []byte, s *storage.Session) error {
	d := decoder{b: rec}
	if v := d.u8(); d.err == nil && v != recordVersion {
		return fmt.Errorf("%w: session record version %d, this zkx reads %d", errCorrupt, v, recordVersion)
	}
	s.Timeout = int32(d.u32())
	pw := d.bytes()
	if err := d.finish("session"); err != nil {
		return err
	}
	s.Passwd = append(make([]byte, 0, len(pw)), pw...)
	return nil
}

func decodeInt64(rec []byte) (int64, error) {
	if len(rec) != 8 {
		return 0, fmt.Errorf("%w: %d bytes, want 8", errCorrupt, len(rec))
	}
	return int64(binary.BigEndian.Uint64(rec)), nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads a record front to back. The first problem is kept in err
// and makes every later read return zero, so callers check once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) need(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = fmt.Errorf("truncated: need %d bytes, have %d", n, len(d.b))
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8() byte {
	if p := d.need(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.need(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.need(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("bad length prefix")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes reads a length-prefixed byte string, aliasing the record.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("truncated: length %d exceeds the %d bytes left", n, len(d.b))
		return nil
	}
	return d.need(int(n))
}

// count reads an element count and checks that the rest of the record can
// hold that many elements of at least minSize bytes, so a corrupt count
// cannot make the decoder allocate a huge slice.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/minSize) {
		d.err = fmt.Errorf("count %d cannot fit in the %d bytes left", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) finish(what string) error {
	if d.err != nil {
		return fmt.Errorf("%w: %s record: %v", errCorrupt, what, d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %s record has %d trailing bytes", errCorrupt, what, len(d.b))
	}
	return nil
}
