package proto

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

func TestMultiRequestGolden(t *testing.T) {
	req := MultiRequest{Ops: []MultiOp{
		{Type: OpCreate, Path: "/a", Data: []byte("x"), ACL: znode.OpenACLUnsafe, Flags: 0},
		{Type: OpSetData, Path: "/b", Data: nil, Version: -1},
		{Type: OpCheck, Path: "/c", Version: 2},
	}}
	want := mustHex(t, `
		00000001 00 ffffffff  00000002 2f61  00000001 78
		    00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65  00000000
		00000005 00 ffffffff  00000002 2f62  ffffffff  ffffffff
		0000000d 00 ffffffff  00000002 2f63  00000002
		ffffffff 01 ffffffff`)
	got, err := Marshal(&req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("multi request\n got  %x\n want %x", got, want)
	}
	var back MultiRequest
	if err := Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, req) {
		t.Errorf("decoded %+v, want %+v", back, req)
	}
}

func TestMultiResponseGolden(t *testing.T) {
	// A failed write multi: the op before the failure reports 0, the
	// failing op its code, the op after it RuntimeInconsistency. Every
	// error result repeats its code in the header and the body.
	resp := MultiResponse{Results: []MultiResult{
		{Type: OpError, Err: CodeOk},
		{Type: OpError, Err: CodeNodeExists},
		{Type: OpError, Err: CodeRuntimeInconsistency},
	}}
	want := mustHex(t, `
		ffffffff 00 00000000 00000000
		ffffffff 00 ffffff92 ffffff92
		ffffffff 00 fffffffe fffffffe
		ffffffff 01 ffffffff`)
	got, err := Marshal(&resp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("multi response\n got  %x\n want %x", got, want)
	}

	ok := MultiResponse{Results: []MultiResult{
		{Type: OpCreate, Path: "/a", Err: 99}, // Err is not on the wire for non-error results
		{Type: OpDelete},
		{Type: OpCreate2, Path: "/b", Stat: testStat},
	}}
	got, _ = Marshal(&ok)
	want = mustHex(t, `
		00000001 00 00000000 00000002 2f61
		00000002 00 00000000
		0000000f 00 00000000 00000002 2f62`+testStatHex+`
		ffffffff 01 ffffffff`)
	if !bytes.Equal(got, want) {
		t.Errorf("successful multi response\n got  %x\n want %x", got, want)
	}
}

func TestMultiRequestMalformed(t *testing.T) {
	end := "ffffffff 01 ffffffff"
	getData := "00000004 00 ffffffff 00000002 2f61 00"
	tests := []struct {
		name string
		hex  string
		want string
	}{
		{"empty input", "", "short"},
		{"no end marker", getData, "short"},
		{"truncated end marker", getData + "ffffffff 01", "short"},
		{"op type not allowed in a multi", "00000003 00 ffffffff 00000002 2f61 00" + end, "invalid type of op 3"},
		{"ping inside a multi", "0000000b 00 ffffffff" + end, "invalid type of op 11"},
		{"nested multi", "0000000e 00 ffffffff" + end, "invalid type of op 14"},
		{"read after write", "00000002 00 ffffffff 00000002 2f61 ffffffff" + getData + end, "mixes read and write"},
		{"write after read", getData + "00000002 00 ffffffff 00000002 2f61 ffffffff" + end, "mixes read and write"},
		{"huge ACL count", "00000001 00 ffffffff 00000002 2f61 00000000 7fffffff" + end, "exceeds"},
		{"negative path length", "00000002 00 ffffffff fffffff0 00000000" + end, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r MultiRequest
			err := Unmarshal(mustHex(t, tc.hex), &r)
			if !errors.Is(err, znode.ErrMarshalling) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrMarshalling mentioning %q", err, tc.want)
			}
			if Code(err) != CodeMarshallingError {
				t.Errorf("Code(err) = %d, want %d", Code(err), CodeMarshallingError)
			}
			if r.Ops != nil {
				t.Errorf("Ops = %+v after an error, want nil", r.Ops)
			}
		})
	}
}

func TestMultiEndsAtDoneFlag(t *testing.T) {
	// ZooKeeper stops at the first header with done set, whatever its type
	// and err; bytes after it are not part of the multi.
	var r MultiRequest
	err := Unmarshal(mustHex(t, "00000002 00 ffffffff 00000002 2f61 00000003  00000000 01 00000000  deadbeef"), &r)
	if err != nil || len(r.Ops) != 1 || r.Ops[0].Path != "/a" || r.Ops[0].Version != 3 {
		t.Fatalf("got %+v, %v", r.Ops, err)
	}
}

func TestMultiResponseMalformed(t *testing.T) {
	tests := []struct{ name, hex string }{
		{"no end marker", "00000002 00 00000000"},
		{"unknown result type", "00000003 00 00000000 ffffffff 01 ffffffff"},
		{"error result without body", "ffffffff 00 ffffff9b"},
		{"huge children count", "00000008 00 00000000 40000000 ffffffff 01 ffffffff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r MultiResponse
			if err := Unmarshal(mustHex(t, tc.hex), &r); !errors.Is(err, znode.ErrMarshalling) {
				t.Fatalf("err = %v, want ErrMarshalling", err)
			}
		})
	}
}

func TestMultiEncodeRejectsBadTypes(t *testing.T) {
	tests := []struct {
		name string
		rec  Encodable
	}{
		{"request with getACL op", &MultiRequest{Ops: []MultiOp{{Type: OpDelete, Path: "/a"}, {Type: OpGetACL, Path: "/a"}}}},
		{"response with exists result", &MultiResponse{Results: []MultiResult{{Type: OpExists}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Marshal(tc.rec); !errors.Is(err, znode.ErrMarshalling) {
				t.Fatalf("Marshal err = %v, want ErrMarshalling", err)
			}
			// The frame helpers leave the buffer untouched on failure.
			prefix := []byte("earlier frames")
			out, err := AppendReply(prefix, ReplyHeader{Xid: 1}, tc.rec)
			if err == nil || !bytes.Equal(out, prefix) {
				t.Fatalf("AppendReply = %q, %v; want the prefix unchanged and an error", out, err)
			}
		})
	}
}

func TestMultiOpEffectiveType(t *testing.T) {
	tests := []struct {
		name string
		op   MultiOp
		want int32
	}{
		{"create persistent", MultiOp{Type: OpCreate, Flags: 0}, OpCreate},
		{"create2 becomes create", MultiOp{Type: OpCreate2, Flags: int32(znode.ModeEphemeralSequential)}, OpCreate},
		{"create with container flags", MultiOp{Type: OpCreate, Flags: int32(znode.ModeContainer)}, OpCreateContainer},
		{"createContainer with plain flags", MultiOp{Type: OpCreateContainer, Flags: 0}, OpCreate},
		{"create with TTL flags", MultiOp{Type: OpCreate, Flags: int32(znode.ModePersistentSequentialWithTTL)}, OpCreateTTL},
		{"createTTL", MultiOp{Type: OpCreateTTL, Flags: int32(znode.ModePersistentWithTTL)}, OpCreateTTL},
		{"invalid flags act as persistent", MultiOp{Type: OpCreate2, Flags: 42}, OpCreate},
		{"delete unchanged", MultiOp{Type: OpDelete}, OpDelete},
		{"getData unchanged", MultiOp{Type: OpGetData}, OpGetData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.op.EffectiveType(); got != tc.want {
				t.Errorf("EffectiveType() = %s, want %s", OpName(got), OpName(tc.want))
			}
		})
	}
}
