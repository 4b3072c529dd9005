package proto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

var testStat = znode.Stat{
	Czxid: 0x100000002, Mzxid: 0x100000005, Ctime: 1700000000000, Mtime: 1700000001234,
	Version: 3, Cversion: 4, Aversion: 1, EphemeralOwner: 0x1234567890, DataLength: 5,
	NumChildren: 2, Pzxid: 0x100000007,
}

// testStatHex is testStat on the wire.
const testStatHex = `
	0000000100000002 0000000100000005 0000018bcfe56800 0000018bcfe56cd2
	00000003 00000004 00000001 0000001234567890 00000005 00000002 0000000100000007`

var digestACL = []znode.ACL{
	{Perms: znode.PermAll, ID: znode.ID{Scheme: "digest", ID: "bob:Xk8kqNJ0Y0Ff8iJ0lWwsqnwYfus="}},
	{Perms: znode.PermRead, ID: znode.AnyoneID},
}

// recordCase is one record value with a constructor for an empty one of the
// same type, so tests can decode into it.
type recordCase struct {
	name string
	rec  Record
	zero func() Record
}

// allRecords has at least one realistic value of every record type, and
// the edge values (null vs empty data, null vectors) a codec gets wrong.
func allRecords() []recordCase {
	return []recordCase{
		{"RequestHeader", &RequestHeader{Xid: 7, Type: OpGetData}, func() Record { return &RequestHeader{} }},
		{"ReplyHeader", &ReplyHeader{Xid: 7, Zxid: 0x100000009, Err: CodeNoNode}, func() Record { return &ReplyHeader{} }},
		{"ConnectRequest/readOnly", &ConnectRequest{LastZxidSeen: 0x10, TimeOut: 30000, SessionID: 0x7001, Passwd: make([]byte, 16), ReadOnly: true, HasReadOnly: true}, func() Record { return &ConnectRequest{} }},
		{"ConnectRequest/noReadOnly", &ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}, func() Record { return &ConnectRequest{} }},
		{"ConnectResponse/readOnly", &ConnectResponse{TimeOut: 30000, SessionID: 0x7001, Passwd: []byte("0123456789abcdef"), HasReadOnly: true}, func() Record { return &ConnectResponse{} }},
		{"ConnectResponse/noReadOnly", &ConnectResponse{TimeOut: 0, SessionID: 0, Passwd: make([]byte, 16)}, func() Record { return &ConnectResponse{} }},
		{"WatcherEvent", &WatcherEvent{Type: int32(znode.EventNodeDataChanged), State: znode.StateSyncConnected, Path: "/app/config"}, func() Record { return &WatcherEvent{} }},
		{"CreateRequest", &CreateRequest{Path: "/app/lock-", Data: []byte("hello"), ACL: digestACL, Flags: int32(znode.ModeEphemeralSequential)}, func() Record { return &CreateRequest{} }},
		{"CreateRequest/nullData", &CreateRequest{Path: "/a", Data: nil, ACL: znode.OpenACLUnsafe}, func() Record { return &CreateRequest{} }},
		{"CreateRequest/emptyData", &CreateRequest{Path: "/a", Data: []byte{}, ACL: []znode.ACL{}}, func() Record { return &CreateRequest{} }},
		{"CreateTTLRequest", &CreateTTLRequest{Path: "/ttl", Data: []byte("x"), ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModePersistentWithTTL), TTL: 60000}, func() Record { return &CreateTTLRequest{} }},
		{"DeleteRequest", &DeleteRequest{Path: "/a/b", Version: -1}, func() Record { return &DeleteRequest{} }},
		{"PathWatchRequest", &GetDataRequest{Path: "/app/config", Watch: true}, func() Record { return &PathWatchRequest{} }},
		{"SetDataRequest", &SetDataRequest{Path: "/app/config", Data: []byte("v2"), Version: 3}, func() Record { return &SetDataRequest{} }},
		{"PathRequest", &SyncRequest{Path: "/app"}, func() Record { return &PathRequest{} }},
		{"SetACLRequest", &SetACLRequest{Path: "/app", ACL: digestACL, Version: 0}, func() Record { return &SetACLRequest{} }},
		{"CheckVersionRequest", &CheckVersionRequest{Path: "/app", Version: 2}, func() Record { return &CheckVersionRequest{} }},
		{"GetEphemeralsRequest", &GetEphemeralsRequest{PrefixPath: "/app"}, func() Record { return &GetEphemeralsRequest{} }},
		{"WatchTypeRequest", &RemoveWatchesRequest{Path: "/app", Type: int32(znode.WatcherAny)}, func() Record { return &WatchTypeRequest{} }},
		{"AddWatchRequest", &AddWatchRequest{Path: "/app", Mode: int32(znode.AddWatchPersistentRecursive)}, func() Record { return &AddWatchRequest{} }},
		{"AuthPacket", &AuthPacket{Scheme: "digest", Auth: []byte("bob:secret")}, func() Record { return &AuthPacket{} }},
		{"SetWatches", &SetWatches{RelativeZxid: 0x100000010, DataWatches: []string{"/a", "/b"}, ExistWatches: []string{}, ChildWatches: []string{"/"}}, func() Record { return &SetWatches{} }},
		{"SetWatches/null", &SetWatches{RelativeZxid: 1}, func() Record { return &SetWatches{} }},
		{"SetWatches2", &SetWatches2{RelativeZxid: 9, DataWatches: []string{"/a"}, ExistWatches: []string{}, ChildWatches: []string{}, PersistentWatches: []string{"/p"}, PersistentRecursiveWatches: []string{"/r", "/s"}}, func() Record { return &SetWatches2{} }},
		{"ReconfigRequest", &ReconfigRequest{JoiningServers: "server.4=h:2888:3888", NewMembers: "", CurConfigID: -1}, func() Record { return &ReconfigRequest{} }},
		{"GetSASLRequest", &GetSASLRequest{Token: []byte{1, 2, 3}}, func() Record { return &GetSASLRequest{} }},
		{"CreateResponse", &CreateResponse{Path: "/app/lock-0000000003"}, func() Record { return &CreateResponse{} }},
		{"Create2Response", &Create2Response{Path: "/app/x", Stat: testStat}, func() Record { return &Create2Response{} }},
		{"StatResponse", &ExistsResponse{Stat: testStat}, func() Record { return &StatResponse{} }},
		{"GetDataResponse", &GetDataResponse{Data: []byte("hello"), Stat: testStat}, func() Record { return &GetDataResponse{} }},
		{"GetDataResponse/nullData", &GetDataResponse{Data: nil, Stat: testStat}, func() Record { return &GetDataResponse{} }},
		{"GetACLResponse", &GetACLResponse{ACL: digestACL, Stat: testStat}, func() Record { return &GetACLResponse{} }},
		{"GetChildrenResponse", &GetChildrenResponse{Children: []string{"a", "b", "zookeeper"}}, func() Record { return &GetChildrenResponse{} }},
		{"GetChildrenResponse/empty", &GetChildrenResponse{Children: []string{}}, func() Record { return &GetChildrenResponse{} }},
		{"GetChildren2Response", &GetChildren2Response{Children: []string{"c"}, Stat: testStat}, func() Record { return &GetChildren2Response{} }},
		{"SyncResponse", &SyncResponse{Path: "/app"}, func() Record { return &SyncResponse{} }},
		{"ErrorResponse", &ErrorResponse{Err: 0}, func() Record { return &ErrorResponse{} }},
		{"GetEphemeralsResponse", &GetEphemeralsResponse{Ephemerals: []string{"/app/e1"}}, func() Record { return &GetEphemeralsResponse{} }},
		{"GetAllChildrenNumberResponse", &GetAllChildrenNumberResponse{TotalNumber: 42}, func() Record { return &GetAllChildrenNumberResponse{} }},
		{"WhoAmIResponse", &WhoAmIResponse{ClientInfo: []ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "bob"}}}, func() Record { return &WhoAmIResponse{} }},
		{"SetSASLResponse", &SetSASLResponse{Token: []byte{9}}, func() Record { return &SetSASLResponse{} }},
		{"MultiHeader", &MultiHeader{Type: OpCreate, Done: false, Err: -1}, func() Record { return &MultiHeader{} }},
		{"MultiRequest/write", testMultiRequest(), func() Record { return &MultiRequest{} }},
		{"MultiRequest/read", &MultiRequest{Ops: []MultiOp{{Type: OpGetData, Path: "/a"}, {Type: OpGetChildren, Path: "/"}}}, func() Record { return &MultiRequest{} }},
		{"MultiRequest/empty", &MultiRequest{}, func() Record { return &MultiRequest{} }},
		{"MultiResponse/write", testMultiResponse(), func() Record { return &MultiResponse{} }},
		{"MultiResponse/read", &MultiResponse{Results: []MultiResult{
			{Type: OpGetData, Data: []byte("v"), Stat: testStat},
			{Type: OpGetChildren, Children: []string{"x"}},
			{Type: OpError, Err: CodeNoNode},
		}}, func() Record { return &MultiResponse{} }},
	}
}

func testMultiRequest() *MultiRequest {
	return &MultiRequest{Ops: []MultiOp{
		{Type: OpCreate, Path: "/m/a", Data: []byte("1"), ACL: znode.OpenACLUnsafe, Flags: 0},
		{Type: OpCreate2, Path: "/m/b", Data: nil, ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeEphemeral)},
		{Type: OpCreateContainer, Path: "/m/c", Data: []byte{}, ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeContainer)},
		{Type: OpCreateTTL, Path: "/m/d", Data: []byte("t"), ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModePersistentWithTTL), TTL: 5000},
		{Type: OpDelete, Path: "/m/old", Version: -1},
		{Type: OpSetData, Path: "/m", Data: []byte("new"), Version: 4},
		{Type: OpCheck, Path: "/m", Version: 5},
	}}
}

func testMultiResponse() *MultiResponse {
	return &MultiResponse{Results: []MultiResult{
		{Type: OpCreate, Path: "/m/a"},
		{Type: OpCreate2, Path: "/m/b", Stat: testStat},
		{Type: OpDelete},
		{Type: OpSetData, Stat: testStat},
		{Type: OpCheck},
	}}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range allRecords() {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Marshal(tc.rec)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			got := tc.zero()
			if err := Unmarshal(b, got); err != nil {
				t.Fatalf("Unmarshal(%x): %v", b, err)
			}
			if !reflect.DeepEqual(got, tc.rec) {
				t.Errorf("round trip changed the record\n got  %+v\n want %+v", got, tc.rec)
			}
			// Encoding the decoded value gives the same bytes.
			b2, _ := Marshal(got)
			if !bytes.Equal(b, b2) {
				t.Errorf("re-encoding differs\n first  %x\n second %x", b, b2)
			}
		})
	}
}

// TestTruncated cuts every valid encoding short at every length: each cut
// must fail with an error wrapping znode.ErrMarshalling, except where the
// protocol makes the tail optional (the readOnly byte of the handshake).
func TestTruncated(t *testing.T) {
	for _, tc := range allRecords() {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Marshal(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			optionalTail := strings.Contains(tc.name, "/readOnly")
			for n := 0; n < len(b); n++ {
				if optionalTail && n == len(b)-1 {
					continue
				}
				err := Unmarshal(b[:n], tc.zero())
				if !errors.Is(err, znode.ErrMarshalling) {
					t.Fatalf("Unmarshal of %d/%d bytes: err = %v, want ErrMarshalling", n, len(b), err)
				}
			}
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConnectRequestGolden(t *testing.T) {
	passwd := make([]byte, 16)
	tests := []struct {
		name string
		req  ConnectRequest
		hex  string
		len  int
	}{
		{
			name: "java and kazoo send readOnly",
			req:  ConnectRequest{LastZxidSeen: 0x1b, TimeOut: 30000, SessionID: 0, Passwd: passwd, HasReadOnly: true},
			hex: `00000000 000000000000001b 00007530 0000000000000000
			      00000010 00000000000000000000000000000000 00`,
			len: 45,
		},
		{
			name: "go-zookeeper omits readOnly",
			req:  ConnectRequest{TimeOut: 10000, SessionID: 0x0100000000000abc, Passwd: passwd},
			hex: `00000000 0000000000000000 00002710 0100000000000abc
			      00000010 00000000000000000000000000000000`,
			len: 44,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Marshal(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			want := mustHex(t, tc.hex)
			if len(b) != tc.len || !bytes.Equal(b, want) {
				t.Fatalf("encoded %d bytes %x, want %d bytes %x", len(b), b, tc.len, want)
			}
			var got ConnectRequest
			if err := Unmarshal(want, &got); err != nil {
				t.Fatal(err)
			}
			if got.HasReadOnly != tc.req.HasReadOnly {
				t.Errorf("HasReadOnly = %v, want %v", got.HasReadOnly, tc.req.HasReadOnly)
			}
		})
	}
}

func TestConnectResponseEchoesReadOnlyPresence(t *testing.T) {
	for _, has := range []bool{false, true} {
		resp := ConnectResponse{TimeOut: 30000, SessionID: 1, Passwd: make([]byte, 16), HasReadOnly: has}
		b, _ := Marshal(&resp)
		want := 4 + 4 + 8 + 4 + 16
		if has {
			want++
		}
		if len(b) != want {
			t.Errorf("HasReadOnly=%v: %d bytes, want %d", has, len(b), want)
		}
	}
}

func TestConnectRequestReadOnlyByte(t *testing.T) {
	base, _ := Marshal(&ConnectRequest{Passwd: make([]byte, 16)})
	tests := []struct {
		name         string
		tail         []byte
		wantHas      bool
		wantReadOnly bool
	}{
		{"absent", nil, false, false},
		{"false", []byte{0}, true, false},
		{"true", []byte{1}, true, true},
		{"any non-zero byte is true", []byte{7}, true, true},
		{"extra bytes after readOnly are ignored", []byte{1, 0xff, 0xff}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r ConnectRequest
			if err := Unmarshal(append(append([]byte{}, base...), tc.tail...), &r); err != nil {
				t.Fatal(err)
			}
			if r.HasReadOnly != tc.wantHas || r.ReadOnly != tc.wantReadOnly {
				t.Errorf("HasReadOnly=%v ReadOnly=%v, want %v %v", r.HasReadOnly, r.ReadOnly, tc.wantHas, tc.wantReadOnly)
			}
		})
	}
}

func TestStatGolden(t *testing.T) {
	var e Encoder
	EncodeStat(&e, &testStat)
	want := mustHex(t, testStatHex)
	if e.Len() != StatLen || !bytes.Equal(e.Bytes(), want) {
		t.Fatalf("Stat encoded as %d bytes %x, want %d bytes %x", e.Len(), e.Bytes(), StatLen, want)
	}
	d := NewDecoder(want)
	if got := DecodeStat(d); got != testStat || d.Err() != nil || d.Remaining() != 0 {
		t.Errorf("DecodeStat = %+v, err %v, remaining %d", got, d.Err(), d.Remaining())
	}
}

func TestHeaderGolden(t *testing.T) {
	tests := []struct {
		name string
		rec  Encodable
		hex  string
	}{
		{"ping request", &RequestHeader{Xid: XidPing, Type: OpPing}, "fffffffe 0000000b"},
		{"reply", &ReplyHeader{Xid: 5, Zxid: 0x100000002, Err: CodeNoNode}, "00000005 0000000100000002 ffffff9b"},
		{"notification event", &WatcherEvent{Type: 1, State: 3, Path: "/a"}, "00000001 00000003 00000002 2f61"},
		{"null data reply", &GetDataResponse{}, "ffffffff" + strings.Repeat("00", StatLen)},
		{"addWatch success body", &ErrorResponse{}, "00000000"},
		{"nil children go out as an empty vector", &GetChildrenResponse{}, "00000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Marshal(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			if want := mustHex(t, tc.hex); !bytes.Equal(b, want) {
				t.Errorf("got %x, want %x", b, want)
			}
		})
	}
}

func TestNullListsDecodeEmpty(t *testing.T) {
	null := mustHex(t, "ffffffff")
	var gc GetChildrenResponse
	if err := Unmarshal(null, &gc); err != nil || gc.Children == nil || len(gc.Children) != 0 {
		t.Errorf("GetChildrenResponse from null vector: %#v, %v", gc.Children, err)
	}
	var sw SetWatches
	if err := Unmarshal(mustHex(t, "0000000000000001 ffffffff 00000000 ffffffff"), &sw); err != nil {
		t.Fatal(err)
	}
	if sw.DataWatches != nil || sw.ExistWatches == nil || sw.ChildWatches != nil {
		t.Errorf("SetWatches keeps null and empty apart: %#v", sw)
	}
}

func TestNewRequestAndResponse(t *testing.T) {
	for _, op := range []int32{OpCreate, OpCreate2, OpCreateTTL, OpDelete, OpExists, OpGetData, OpSetData,
		OpGetACL, OpSetACL, OpGetChildren, OpGetChildren2, OpSync, OpCheck, OpMulti, OpMultiRead, OpReconfig,
		OpCheckWatches, OpRemoveWatches, OpCreateContainer, OpDeleteContainer, OpAuth, OpSetWatches,
		OpSetWatches2, OpSASL, OpGetEphemerals, OpGetAllChildrenNumber, OpAddWatch} {
		if rec, ok := NewRequest(op); !ok || rec == nil {
			t.Errorf("NewRequest(%s) = %v, %v; want a record", OpName(op), rec, ok)
		}
	}
	for _, op := range []int32{OpPing, OpCloseSession, OpWhoAmI} {
		if rec, ok := NewRequest(op); !ok || rec != nil {
			t.Errorf("NewRequest(%s) = %v, %v; want no body", OpName(op), rec, ok)
		}
	}
	for _, op := range []int32{OpNotification, OpCreateSession, OpError, 10, 99, 108} {
		if _, ok := NewRequest(op); ok {
			t.Errorf("NewRequest(%d) known, want unknown", op)
		}
	}
	wantResp := map[int32]Record{
		OpCreate: &CreateResponse{}, OpCreate2: &Create2Response{}, OpCreateTTL: &Create2Response{},
		OpCreateContainer: &Create2Response{}, OpGetData: &GetDataResponse{}, OpReconfig: &GetDataResponse{},
		OpAddWatch: &ErrorResponse{}, OpWhoAmI: &WhoAmIResponse{}, OpDelete: nil, OpSetWatches: nil,
		OpExists: &StatResponse{}, OpMulti: &MultiResponse{},
	}
	for op, want := range wantResp {
		got, ok := NewResponse(op)
		if !ok || reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("NewResponse(%s) = %T, want %T", OpName(op), got, want)
		}
	}
}
