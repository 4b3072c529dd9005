package server

import (
	"encoding/binary"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
	"github.com/zkx-dev/zkx/pkg/znode"
)

var (
	fuzzOnce sync.Once
	fuzzSrv  *Server
)

// FuzzRequest sends arbitrary request frames (after a valid handshake)
// and checks that the server neither panics nor stops serving: a fresh
// connection must still get an answer afterwards. Seeds are real requests.
func FuzzRequest(f *testing.F) {
	seed := func(op int32, body proto.Encodable) {
		b, err := proto.AppendRequest(nil, proto.RequestHeader{Xid: 1, Type: op}, body)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[4:]) // without the length prefix
	}
	acl := znode.OpenACLUnsafe
	seed(proto.OpCreate, &proto.CreateRequest{Path: "/a", Data: []byte("x"), ACL: acl})
	seed(proto.OpCreateTTL, &proto.CreateTTLRequest{Path: "/t", ACL: acl, Flags: 5, TTL: 100})
	seed(proto.OpGetData, &proto.GetDataRequest{Path: "/a", Watch: true})
	seed(proto.OpSetData, &proto.SetDataRequest{Path: "/a", Data: []byte("y"), Version: -1})
	seed(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{{Type: proto.OpCreate, Path: "/m", ACL: acl}, {Type: proto.OpDelete, Path: "/m", Version: -1}}})
	seed(proto.OpMultiRead, &proto.MultiRequest{Ops: []proto.MultiOp{{Type: proto.OpGetData, Path: "/"}}})
	seed(proto.OpSetWatches2, &proto.SetWatches2{RelativeZxid: 1, DataWatches: []string{"/a"}, PersistentRecursiveWatches: []string{"/"}})
	seed(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/", Mode: 1})
	seed(proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: "/", Type: 3})
	seed(proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: []byte("u:p")})
	seed(proto.OpSetACL, &proto.SetACLRequest{Path: "/a", ACL: acl, Version: -1})
	seed(proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: "/"})
	fuzzOnce.Do(func() {
		s, err := New(Options{Listen: "127.0.0.1:0", TickTime: 50 * time.Millisecond, Backend: memory.New(), ExtendedTypes: true,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			f.Fatal(err)
		}
		if err := s.Start(); err != nil {
			f.Fatal(err)
		}
		fuzzSrv = s
	})
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > 64<<10 {
			return
		}
		c := connectRaw(t, fuzzSrv.Addr().String())
		frame := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
		c.nc.Write(append(frame, payload...))
		// Whatever the server made of it, it still serves a new client.
		probe := connectRaw(t, fuzzSrv.Addr().String())
		if code := probe.call(proto.OpExists, &proto.ExistsRequest{Path: "/"}, nil); code != 0 {
			t.Fatalf("server unhealthy after %x: exists / = %s", payload, proto.CodeName(code))
		}
		c.nc.Close()
		probe.nc.Close()
	})
}
