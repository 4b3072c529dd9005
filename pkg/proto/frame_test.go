package proto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name     string
		in       string // hex
		max      int
		want     string // hex payload
		wantErr  error
		tooLarge *FrameTooLargeError
	}{
		{name: "payload", in: "00000003 616263", max: 10, want: "616263"},
		{name: "empty payload", in: "00000000", max: 10, want: ""},
		{name: "exactly max", in: "00000002 6162", max: 2, want: "6162"},
		{name: "clean EOF", in: "", max: 10, wantErr: io.EOF},
		{name: "EOF inside length", in: "0000", max: 10, wantErr: io.ErrUnexpectedEOF},
		{name: "EOF inside payload", in: "00000005 6162", max: 10, wantErr: io.ErrUnexpectedEOF},
		{name: "over max", in: "00000003 616263", max: 2, tooLarge: &FrameTooLargeError{Len: 3, Max: 2}},
		{name: "negative", in: "ffffffff", max: 10, tooLarge: &FrameTooLargeError{Len: -1, Max: 10}},
		{name: "four-letter word read as a length", in: "72756f6b", max: 0, tooLarge: &FrameTooLargeError{Len: 0x72756f6b, Max: DefaultMaxPacket}},
		{name: "huge length is refused without reading", in: "7fffffff", max: 1 << 20, tooLarge: &FrameTooLargeError{Len: 0x7fffffff, Max: 1 << 20}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReader(bytes.NewReader(mustHex(t, tc.in)))
			got, err := ReadFrame(r, tc.max, nil)
			switch {
			case tc.tooLarge != nil:
				var fe *FrameTooLargeError
				if !errors.As(err, &fe) || *fe != *tc.tooLarge {
					t.Fatalf("err = %v, want %+v", err, tc.tooLarge)
				}
			case tc.wantErr != nil:
				if err != tc.wantErr {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			default:
				if err != nil || !bytes.Equal(got, mustHex(t, tc.want)) {
					t.Fatalf("got %x, %v; want %s", got, err, tc.want)
				}
			}
		})
	}
}

func TestReadFrameReusesBuffer(t *testing.T) {
	in := mustHex(t, "00000002 6162 00000003 636465 00000001 66")
	r := bufio.NewReader(bytes.NewReader(in))
	buf := make([]byte, 0, 8)
	var frames []string
	for {
		f, err := ReadFrame(r, 10, buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if &f[:1][0] != &buf[:1][0] {
			t.Errorf("frame %q did not reuse the buffer", f)
		}
		frames = append(frames, string(f))
	}
	if strings.Join(frames, ",") != "ab,cde,f" {
		t.Errorf("frames = %q", frames)
	}
	// A buffer too small is replaced, not overrun.
	r = bufio.NewReader(bytes.NewReader(in))
	small := make([]byte, 1)
	f, err := ReadFrame(r, 10, small[:0])
	if err != nil || string(f) != "ab" || small[0] != 0 {
		t.Errorf("got %q, %v, small=%v", f, err, small)
	}
}

func TestAppendReplyAndNotification(t *testing.T) {
	e := NewEncoder(nil)
	if err := e.AppendReply(ReplyHeader{Xid: 3, Zxid: 0x10, Err: 0}, &GetDataResponse{Data: []byte("hi"), Stat: testStat}); err != nil {
		t.Fatal(err)
	}
	e.AppendNotification(0x11, &WatcherEvent{Type: 3, State: 3, Path: "/a"})
	if err := e.AppendReply(ReplyHeader{Xid: XidPing, Zxid: 0x11}, nil); err != nil {
		t.Fatal(err)
	}

	// Read the three frames back as a client would.
	r := bufio.NewReader(bytes.NewReader(e.Bytes()))
	var h ReplyHeader
	f, err := ReadFrame(r, 0, nil)
	if err != nil || len(f) != 16+6+StatLen {
		t.Fatalf("reply frame %d bytes, %v", len(f), err)
	}
	d := NewDecoder(f)
	var gd GetDataResponse
	h.Decode(d)
	gd.Decode(d)
	if d.Err() != nil || h.Xid != 3 || string(gd.Data) != "hi" || gd.Stat != testStat {
		t.Errorf("reply = %+v %+v %v", h, gd, d.Err())
	}

	f, _ = ReadFrame(r, 0, nil)
	want := mustHex(t, "ffffffff 0000000000000011 00000000 00000003 00000003 00000002 2f61")
	if !bytes.Equal(f, want) {
		t.Errorf("notification %x, want %x", f, want)
	}

	f, _ = ReadFrame(r, 0, nil)
	if want := mustHex(t, "fffffffe 0000000000000011 00000000"); !bytes.Equal(f, want) {
		t.Errorf("ping reply %x, want %x", f, want)
	}
	if _, err := ReadFrame(r, 0, nil); err != io.EOF {
		t.Errorf("trailing data: %v", err)
	}
}

func TestAppendRequestAndFrame(t *testing.T) {
	b, err := AppendRequest(nil, RequestHeader{Xid: 1, Type: OpGetData}, &GetDataRequest{Path: "/a", Watch: true})
	if want := mustHex(t, "0000000f 00000001 00000004 00000002 2f61 01"); err != nil || !bytes.Equal(b, want) {
		t.Errorf("AppendRequest = %x, %v; want %x", b, err, want)
	}
	b, err = AppendFrame([]byte{0xaa}, func(e *Encoder) { e.Int32(7) })
	if want := mustHex(t, "aa 00000004 00000007"); err != nil || !bytes.Equal(b, want) {
		t.Errorf("AppendFrame = %x, %v; want %x", b, err, want)
	}
	var e Encoder
	if err := e.AppendFrame(&ConnectResponse{Passwd: []byte{}}); err != nil || e.Len() != 4+20 {
		t.Errorf("handshake frame %x, %v", e.Bytes(), err)
	}
}

func TestEndFrameWithoutBegin(t *testing.T) {
	var e Encoder
	e.EndFrame(5)
	if e.Err() == nil {
		t.Error("EndFrame without BeginFrame did not report an error")
	}
	e.Reset()
	if e.Err() != nil || e.Len() != 0 {
		t.Error("Reset did not clear the encoder")
	}
}
