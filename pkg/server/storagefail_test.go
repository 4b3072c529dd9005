package server

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// failingBackend is a memory backend whose commits fail while fail is set,
// as a full disk would make them.
type failingBackend struct {
	*memory.Store
	fail atomic.Bool
}

var errDiskFull = errors.New("write /data/000001.vlog: no space left on device")

func (b *failingBackend) Commit(ctx context.Context, batch storage.Batch) error {
	if b.fail.Load() {
		return errDiskFull
	}
	return b.Store.Commit(ctx, batch)
}

func TestStorageFailureUndoesWritesAndKeepsReads(t *testing.T) {
	be := &failingBackend{Store: memory.New()}
	s := startTestServer(t, func(o *Options) { o.Backend = be })
	c := connectRaw(t, s.Addr().String())
	w := connectRaw(t, s.Addr().String())
	mustCall(t, c, proto.OpCreate, &proto.CreateRequest{Path: "/a", Data: []byte("v1"), ACL: znode.OpenACLUnsafe}, nil)
	w.call(proto.OpExists, &proto.ExistsRequest{Path: "/b", Watch: true}, nil)

	be.fail.Store(true)
	if code := c.call(proto.OpCreate, &proto.CreateRequest{Path: "/b", ACL: znode.OpenACLUnsafe}, nil); code != proto.CodeSystemError {
		t.Fatalf("create while storage fails: %s, want SystemError", proto.CodeName(code))
	}
	// The write was undone: nobody sees /b, and it is not in storage.
	if code := w.call(proto.OpExists, &proto.ExistsRequest{Path: "/b"}, nil); code != proto.CodeNoNode {
		t.Errorf("exists /b after the failed create: %s, want NoNode", proto.CodeName(code))
	}
	var n int
	be.Store.Load(context.Background(), func(nd storage.Node) error {
		if nd.Path == "/b" {
			n++
		}
		return nil
	})
	if n != 0 {
		t.Error("the failed create reached storage")
	}
	// The watcher was told (its one-shot watch was consumed): a spurious
	// event it can re-read after, never a silent loss.
	if evs := w.events(); len(evs) != 1 || evs[0].Path != "/b" {
		t.Errorf("watcher saw %+v, want the NodeCreated /b it was promised", evs)
	}
	// Writes are refused at once during the backoff; reads are served.
	if code := c.call(proto.OpSetData, &proto.SetDataRequest{Path: "/a", Data: []byte("v2"), Version: -1}, nil); code != proto.CodeSystemError {
		t.Errorf("setData during backoff: %s, want SystemError", proto.CodeName(code))
	}
	var gd proto.GetDataResponse
	if code := c.call(proto.OpGetData, &proto.GetDataRequest{Path: "/a"}, &gd); code != 0 || string(gd.Data) != "v1" {
		t.Errorf("read during the failure: %s %q, want v1", proto.CodeName(code), gd.Data)
	}
	// No new session can be persisted: the connection is refused.
	nc := dialRaw(t, s.Addr().String())
	if _, err := nc.handshake(proto.ConnectRequest{TimeOut: 1000, Passwd: make([]byte, 16)}); err == nil {
		t.Error("a new session was accepted while storage fails")
	}

	// Storage recovers: after the backoff, writes go through again.
	be.fail.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code := c.call(proto.OpCreate, &proto.CreateRequest{Path: "/b", ACL: znode.OpenACLUnsafe}, nil)
		if code == 0 {
			break
		}
		if code != proto.CodeSystemError || time.Now().After(deadline) {
			t.Fatalf("create after recovery: %s", proto.CodeName(code))
		}
		time.Sleep(50 * time.Millisecond)
	}
	connectRaw(t, s.Addr().String()) // new sessions again
}

func TestStorageFailureUndoesMultiAndSessionClose(t *testing.T) {
	be := &failingBackend{Store: memory.New()}
	s := startTestServer(t, func(o *Options) { o.Backend = be })
	c := connectRaw(t, s.Addr().String())
	owner := connectRaw(t, s.Addr().String())
	mustCall(t, owner, proto.OpCreate, &proto.CreateRequest{Path: "/lease", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeEphemeral)}, nil)
	be.fail.Store(true)
	var mr proto.MultiResponse
	if code := c.call(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Path: "/m1", ACL: znode.OpenACLUnsafe},
		{Type: proto.OpCreate, Path: "/m2", ACL: znode.OpenACLUnsafe},
	}}, &mr); code != proto.CodeSystemError {
		t.Fatalf("multi while storage fails: %s, want SystemError", proto.CodeName(code))
	}
	// closeSession cannot be persisted either: the ephemeral stays.
	owner.call(proto.OpCloseSession, nil, nil)
	for _, p := range []string{"/m1", "/m2"} {
		if code := c.call(proto.OpExists, &proto.ExistsRequest{Path: p}, nil); code != proto.CodeNoNode {
			t.Errorf("%s after the failed multi: %s", p, proto.CodeName(code))
		}
	}
	if code := c.call(proto.OpExists, &proto.ExistsRequest{Path: "/lease"}, nil); code != 0 {
		t.Errorf("ephemeral of a session whose close failed: %s, want it kept", proto.CodeName(code))
	}
}
