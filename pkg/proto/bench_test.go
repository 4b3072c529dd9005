package proto

import "testing"

func BenchmarkDecodeGetDataRequest(b *testing.B) {
	payload, _ := AppendRequest(nil, RequestHeader{Xid: 42, Type: OpGetData}, &GetDataRequest{Path: "/services/payments/config", Watch: true})
	payload = payload[4:]
	var d Decoder
	var h RequestHeader
	var req GetDataRequest
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		d.Reset(payload)
		h.Decode(&d)
		if err := req.Decode(&d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeGetDataResponse builds the reply frame the way a server's
// writer would: one reused Encoder, concrete record types, one back-patch.
func BenchmarkEncodeGetDataResponse(b *testing.B) {
	resp := GetDataResponse{Data: make([]byte, 128), Stat: testStat}
	h := ReplyHeader{Xid: 42, Zxid: 0x100000010}
	var e Encoder
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		start := e.BeginFrame()
		h.Encode(&e)
		resp.Encode(&e)
		e.EndFrame(start)
	}
	b.SetBytes(int64(e.Len()))
}

// BenchmarkAppendReplyGetData is the convenience path through the
// Encodable interface.
func BenchmarkAppendReplyGetData(b *testing.B) {
	resp := &GetDataResponse{Data: make([]byte, 128), Stat: testStat}
	var e Encoder
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		if err := e.AppendReply(ReplyHeader{Xid: 42, Zxid: 0x100000010}, resp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeNotification(b *testing.B) {
	ev := WatcherEvent{Type: 3, State: 3, Path: "/services/payments/config"}
	var e Encoder
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		e.AppendNotification(0x100000011, &ev)
	}
	b.SetBytes(int64(e.Len()))
}

func BenchmarkDecodeMultiRequest(b *testing.B) {
	payload, _ := Marshal(testMultiRequest())
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		var m MultiRequest
		d.Reset(payload)
		if err := m.Decode(&d); err != nil {
			b.Fatal(err)
		}
	}
}
