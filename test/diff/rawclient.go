package diff

import (
	"bufio"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// RawClient speaks the wire protocol directly (with pkg/proto) for the operations
// go-zookeeper lacks: multiRead, getAllChildrenNumber and getEphemerals. It is synchronous:
// one request at a time, notifications read on the way to each reply are kept in order.
//
// RawClient is not safe for concurrent use.
type RawClient struct {
	env    *Env
	name   string
	conn   net.Conn
	r      *bufio.Reader
	xid    int32
	events []string
}

// ConnectRaw opens a session with a raw ConnectRequest and records "name: session S".
func (e *Env) ConnectRaw(name string) *RawClient {
	conn, err := net.DialTimeout("tcp", e.Addr, WaitTimeout)
	if err != nil {
		e.Fatalf("%s: dial: %v", name, err)
	}
	rc := &RawClient{env: e, name: name, conn: conn, r: bufio.NewReader(conn)}
	e.raws = append(e.raws, rc)
	req := &proto.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)}
	frame, err := proto.AppendFrame(nil, func(enc *proto.Encoder) { req.Encode(enc) })
	if err != nil {
		e.Fatalf("%s: encode ConnectRequest: %v", name, err)
	}
	rc.write(frame)
	payload := rc.read()
	var resp proto.ConnectResponse
	if err := proto.Unmarshal(payload, &resp); err != nil {
		e.Fatalf("%s: decode ConnectResponse: %v", name, err)
	}
	if resp.SessionID == 0 {
		e.Fatalf("%s: session refused", name)
	}
	e.Tx.Addf("%s: session %s", name, SessionToken(resp.SessionID))
	return rc
}

func (rc *RawClient) write(b []byte) {
	_ = rc.conn.SetWriteDeadline(time.Now().Add(WaitTimeout))
	if _, err := rc.conn.Write(b); err != nil {
		rc.env.Fatalf("%s: write: %v", rc.name, err)
	}
}

func (rc *RawClient) read() []byte {
	_ = rc.conn.SetReadDeadline(time.Now().Add(WaitTimeout))
	b, err := proto.ReadFrame(rc.r, 4<<20, nil)
	if err != nil {
		rc.env.Fatalf("%s: read: %v", rc.name, err)
	}
	return b
}

// call sends one request and returns the reply's error code and body, collecting any
// notifications that arrive first.
func (rc *RawClient) call(op int32, body proto.Encodable) (int32, *proto.Decoder) {
	rc.xid++
	frame, err := proto.AppendRequest(nil, proto.RequestHeader{Xid: rc.xid, Type: op}, body)
	if err != nil {
		rc.env.Fatalf("%s: encode op %d: %v", rc.name, op, err)
	}
	rc.write(frame)
	for {
		d := proto.NewDecoder(rc.read())
		var h proto.ReplyHeader
		if err := h.Decode(d); err != nil {
			rc.env.Fatalf("%s: decode reply header: %v", rc.name, err)
		}
		switch {
		case h.Xid == proto.XidNotification:
			var ev proto.WatcherEvent
			if err := ev.Decode(d); err != nil {
				rc.env.Fatalf("%s: decode notification: %v", rc.name, err)
			}
			rc.events = append(rc.events, fmt.Sprintf("event %s %s", zk.EventType(ev.Type), ev.Path))
		case h.Xid == rc.xid:
			return h.Err, d
		default:
			rc.env.Fatalf("%s: reply xid %d, want %d", rc.name, h.Xid, rc.xid)
		}
	}
}

func (rc *RawClient) rec(format string, args ...any) {
	rc.env.Tx.Addf(rc.name+": "+format, args...)
}

// MultiRead sends a multiRead and records its overall code and each result.
func (rc *RawClient) MultiRead(desc string, ops ...proto.MultiOp) {
	code, d := rc.call(proto.OpMultiRead, &proto.MultiRequest{Ops: ops})
	if code != 0 {
		rc.rec("multiRead %s -> %s", desc, codeName(code))
		return
	}
	var resp proto.MultiResponse
	if err := resp.Decode(d); err != nil {
		rc.env.Fatalf("%s: decode multiRead response: %v", rc.name, err)
	}
	rc.rec("multiRead %s -> ok (%d results)", desc, len(resp.Results))
	for i, r := range resp.Results {
		switch r.Type {
		case proto.OpGetData:
			rc.rec("  op[%d] getData %s %s", i, fmtData(r.Data), fmtZnodeStat(r.Stat))
		case proto.OpGetChildren:
			kids := append([]string(nil), r.Children...)
			sort.Strings(kids)
			rc.rec("  op[%d] getChildren [%s]", i, strings.Join(kids, " "))
		case proto.OpError:
			rc.rec("  op[%d] error %s", i, codeName(r.Err))
		default:
			rc.rec("  op[%d] unexpected result type %d", i, r.Type)
		}
	}
}

// GetAllChildrenNumber records the number of descendants of path.
func (rc *RawClient) GetAllChildrenNumber(path string) {
	code, d := rc.call(proto.OpGetAllChildrenNumber, &proto.PathRequest{Path: path})
	if code != 0 {
		rc.rec("getAllChildrenNumber %s -> %s", path, codeName(code))
		return
	}
	rc.rec("getAllChildrenNumber %s -> %d", path, d.Int32())
}

// GetEphemerals records the session's ephemeral paths with the prefix, sorted.
func (rc *RawClient) GetEphemerals(prefix string) {
	code, d := rc.call(proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: prefix})
	if code != 0 {
		rc.rec("getEphemerals %q -> %s", prefix, codeName(code))
		return
	}
	paths := d.Strings()
	sort.Strings(paths)
	rc.rec("getEphemerals %q -> [%s]", prefix, strings.Join(paths, " "))
}

// Drain does a round trip (exists "/") and records the notifications received so far.
func (rc *RawClient) Drain() {
	rc.call(proto.OpExists, &proto.PathWatchRequest{Path: "/"})
	if len(rc.events) == 0 {
		rc.rec("(no events)")
	}
	for _, ev := range rc.events {
		rc.rec("%s", ev)
	}
	rc.events = nil
}

// Close closes the session and the connection.
func (rc *RawClient) Close() {
	rc.call(proto.OpCloseSession, nil)
	rc.conn.Close()
	rc.rec("closed")
}

func codeName(code int32) string {
	if code == 0 {
		return "ok"
	}
	if n, ok := codeNames[int(code)]; ok {
		return n
	}
	return fmt.Sprintf("code(%d)", code)
}

func fmtZnodeStat(st znode.Stat) string {
	return FmtStat(&zk.Stat{
		Czxid: st.Czxid, Mzxid: st.Mzxid, Ctime: st.Ctime, Mtime: st.Mtime,
		Version: st.Version, Cversion: st.Cversion, Aversion: st.Aversion,
		EphemeralOwner: st.EphemeralOwner, DataLength: st.DataLength,
		NumChildren: st.NumChildren, Pzxid: st.Pzxid,
	})
}
