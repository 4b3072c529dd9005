package proto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// requestSeeds are request payloads (RequestHeader + body, no length
// prefix) shaped like the ones real clients send.
func requestSeeds(tb testing.TB) [][]byte {
	type req struct {
		h    RequestHeader
		body Encodable
	}
	reqs := []req{
		{RequestHeader{1, OpGetData}, &GetDataRequest{Path: "/app/config", Watch: true}},
		{RequestHeader{2, OpExists}, &ExistsRequest{Path: "/missing", Watch: true}},
		{RequestHeader{3, OpGetChildren2}, &GetChildren2Request{Path: "/", Watch: false}},
		{RequestHeader{4, OpCreate}, &CreateRequest{Path: "/app/lock-", Data: []byte("id"), ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeEphemeralSequential)}},
		{RequestHeader{5, OpCreate2}, &CreateRequest{Path: "/app/n", ACL: digestACL}},
		{RequestHeader{6, OpCreateTTL}, &CreateTTLRequest{Path: "/t", ACL: znode.OpenACLUnsafe, Flags: 5, TTL: 1000}},
		{RequestHeader{7, OpSetData}, &SetDataRequest{Path: "/app/config", Data: []byte("v=2"), Version: -1}},
		{RequestHeader{8, OpDelete}, &DeleteRequest{Path: "/app/n", Version: 0}},
		{RequestHeader{9, OpSetACL}, &SetACLRequest{Path: "/app", ACL: znode.ReadACLUnsafe, Version: -1}},
		{RequestHeader{10, OpGetACL}, &GetACLRequest{Path: "/app"}},
		{RequestHeader{11, OpSync}, &SyncRequest{Path: "/"}},
		{RequestHeader{12, OpMulti}, testMultiRequest()},
		{RequestHeader{13, OpMultiRead}, &MultiRequest{Ops: []MultiOp{{Type: OpGetData, Path: "/a"}, {Type: OpGetChildren, Path: "/b"}}}},
		{RequestHeader{14, OpAddWatch}, &AddWatchRequest{Path: "/app", Mode: 1}},
		{RequestHeader{15, OpRemoveWatches}, &RemoveWatchesRequest{Path: "/app", Type: 3}},
		{RequestHeader{16, OpCheckWatches}, &CheckWatchesRequest{Path: "/app", Type: 2}},
		{RequestHeader{17, OpGetEphemerals}, &GetEphemeralsRequest{PrefixPath: "/"}},
		{RequestHeader{18, OpGetAllChildrenNumber}, &GetAllChildrenNumberRequest{Path: "/app"}},
		{RequestHeader{19, OpReconfig}, &ReconfigRequest{CurConfigID: -1}},
		{RequestHeader{20, OpSASL}, &GetSASLRequest{Token: []byte{0x60, 0x82}}},
		{RequestHeader{XidSetWatches, OpSetWatches}, &SetWatches{RelativeZxid: 5, DataWatches: []string{"/a"}, ExistWatches: []string{}, ChildWatches: []string{"/"}}},
		{RequestHeader{XidSetWatches, OpSetWatches2}, &SetWatches2{RelativeZxid: 5, DataWatches: []string{}, ExistWatches: []string{}, ChildWatches: []string{}, PersistentWatches: []string{"/p"}, PersistentRecursiveWatches: []string{"/r"}}},
		{RequestHeader{XidAuth, OpAuth}, &AuthPacket{Scheme: "digest", Auth: []byte("bob:pw")}},
		{RequestHeader{XidPing, OpPing}, nil},
		{RequestHeader{21, OpWhoAmI}, nil},
		{RequestHeader{22, OpCloseSession}, nil},
	}
	var out [][]byte
	for _, r := range reqs {
		var e Encoder
		r.h.Encode(&e)
		if r.body != nil {
			r.body.Encode(&e)
		}
		if e.Err() != nil {
			tb.Fatal(e.Err())
		}
		out = append(out, e.Bytes())
	}
	return out
}

// decodeRequest decodes a request payload the way the server does.
func decodeRequest(payload []byte) (RequestHeader, Record, error) {
	d := NewDecoder(payload)
	var h RequestHeader
	if err := h.Decode(d); err != nil {
		return h, nil, err
	}
	rec, known := NewRequest(h.Type)
	if !known || rec == nil {
		return h, nil, nil
	}
	return h, rec, rec.Decode(d)
}

// checkReencode asserts that a successfully decoded record encodes, and
// that the encoding decodes to an equal record.
func checkReencode(t *testing.T, rec Record, fresh Record) {
	t.Helper()
	b, err := Marshal(rec)
	if err != nil {
		t.Fatalf("decoded %T does not re-encode: %v", rec, err)
	}
	if err := Unmarshal(b, fresh); err != nil {
		t.Fatalf("re-encoded %T (%x) does not decode: %v", rec, b, err)
	}
	if !reflect.DeepEqual(rec, fresh) {
		t.Fatalf("%T changed on re-encoding\n first  %+v\n second %+v", rec, rec, fresh)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range requestSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		h, rec, err := decodeRequest(payload)
		if err != nil {
			if !errors.Is(err, znode.ErrMarshalling) {
				t.Fatalf("error does not wrap ErrMarshalling: %v", err)
			}
			return
		}
		if rec == nil {
			return
		}
		fresh, _ := NewRequest(h.Type)
		checkReencode(t, rec, fresh)
	})
}

func FuzzDecodeResponse(f *testing.F) {
	add := func(op int32, body Encodable) {
		b, err := AppendReply(nil, ReplyHeader{Xid: 1, Zxid: 0x100000001}, body)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(op, b[4:])
	}
	add(OpGetData, &GetDataResponse{Data: []byte("v"), Stat: testStat})
	add(OpGetData, &GetDataResponse{Stat: testStat})
	add(OpCreate, &CreateResponse{Path: "/app/lock-0000000001"})
	add(OpCreate2, &Create2Response{Path: "/a", Stat: testStat})
	add(OpExists, &ExistsResponse{Stat: testStat})
	add(OpGetACL, &GetACLResponse{ACL: digestACL, Stat: testStat})
	add(OpGetChildren, &GetChildrenResponse{Children: []string{"a", "b"}})
	add(OpGetChildren2, &GetChildren2Response{Children: []string{}, Stat: testStat})
	add(OpSync, &SyncResponse{Path: "/"})
	add(OpMulti, testMultiResponse())
	add(OpMultiRead, &MultiResponse{Results: []MultiResult{{Type: OpGetData, Data: []byte{}, Stat: testStat}, {Type: OpError, Err: CodeNoAuth}}})
	add(OpAddWatch, &ErrorResponse{})
	add(OpWhoAmI, &WhoAmIResponse{ClientInfo: []ClientInfo{{"ip", "127.0.0.1"}}})
	add(OpGetEphemerals, &GetEphemeralsResponse{Ephemerals: []string{"/e"}})
	add(OpGetAllChildrenNumber, &GetAllChildrenNumberResponse{TotalNumber: 3})
	add(OpSASL, &SetSASLResponse{Token: []byte{1}})
	add(OpNotification, &WatcherEvent{Type: 4, State: 3, Path: "/app"})
	f.Fuzz(func(t *testing.T, op int32, payload []byte) {
		d := NewDecoder(payload)
		var h ReplyHeader
		if h.Decode(d) != nil {
			return
		}
		rec, known := NewResponse(op)
		if !known || rec == nil {
			return
		}
		if err := rec.Decode(d); err != nil {
			if !errors.Is(err, znode.ErrMarshalling) {
				t.Fatalf("error does not wrap ErrMarshalling: %v", err)
			}
			return
		}
		fresh, _ := NewResponse(op)
		checkReencode(t, rec, fresh)
	})
}

func FuzzDecodeConnect(f *testing.F) {
	for _, r := range []Encodable{
		&ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true},
		&ConnectRequest{TimeOut: 10000, SessionID: 0x100, Passwd: make([]byte, 16)},
		&ConnectResponse{TimeOut: 30000, SessionID: 0x100, Passwd: bytes.Repeat([]byte{7}, 16), HasReadOnly: true},
	} {
		b, _ := Marshal(r)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req ConnectRequest
		if err := Unmarshal(b, &req); err == nil {
			checkReencode(t, &req, &ConnectRequest{})
		} else if !errors.Is(err, znode.ErrMarshalling) {
			t.Fatal(err)
		}
		var resp ConnectResponse
		if err := Unmarshal(b, &resp); err == nil {
			checkReencode(t, &resp, &ConnectResponse{})
		} else if !errors.Is(err, znode.ErrMarshalling) {
			t.Fatal(err)
		}
	})
}

func FuzzReadFrame(f *testing.F) {
	for _, s := range requestSeeds(f)[:4] {
		b, _ := AppendFrame(nil, func(e *Encoder) { e.buf = append(e.buf, s...) })
		f.Add(b, 64)
	}
	f.Add([]byte("ruok"), 0)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, 10)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		max %= 1 << 16
		r := bufio.NewReader(bytes.NewReader(in))
		var buf []byte
		for {
			frame, err := ReadFrame(r, max, buf)
			if err != nil {
				var fe *FrameTooLargeError
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.As(err, &fe) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if limit := max; limit <= 0 && len(frame) > DefaultMaxPacket || limit > 0 && len(frame) > limit {
				t.Fatalf("frame of %d bytes passed limit %d", len(frame), max)
			}
			buf = frame[:cap(frame)]
		}
	})
}

// TestSeedsDecode keeps the fuzz seeds honest: every seed must decode.
func TestSeedsDecode(t *testing.T) {
	for _, s := range requestSeeds(t) {
		h, _, err := decodeRequest(s)
		if err != nil {
			t.Errorf("seed for %s: %v", OpName(h.Type), err)
		}
	}
}
