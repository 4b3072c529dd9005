package server

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/internal/testfs"
	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/storage/badger"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// TestRealDiskFull runs zkx on badger on a small tmpfs that is then filled
// up: writes that need new space fail with an error and are undone, reads
// go on, and once space is freed writes succeed again. It needs root to
// mount a tmpfs (see internal/testfs).
func TestRealDiskFull(t *testing.T) {
	mnt := testfs.Tmpfs(t, "192m")

	store, err := badger.Open(filepath.Join(mnt, "data"), badger.Options{Sync: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() }) // after the server's shutdown
	s := startTestServer(t, func(o *Options) {
		// The default tick: the raw client sends no pings, so its session
		// must outlive slow writes on a loaded machine (it asks for 30 s).
		o.TickTime, o.MaxBuffer, o.Backend = 0, 2<<20, store
	})
	c := connectRaw(t, s.Addr().String())
	mustCall(t, c, proto.OpCreate, &proto.CreateRequest{Path: "/kept", Data: []byte("before"), ACL: znode.OpenACLUnsafe}, nil)

	// Fill the filesystem to the last block.
	free := testfs.Fill(t, mnt)

	// Write until a write fails: the preallocated log takes some first.
	big := bytes.Repeat([]byte("x"), 1<<20)
	failed := false
	for i := 0; i < 400 && !failed; i++ {
		code := c.call(proto.OpSetData, &proto.SetDataRequest{Path: "/kept", Data: big, Version: -1}, nil)
		switch code {
		case 0:
		case proto.CodeSystemError:
			failed = true
		default:
			t.Fatalf("write %d on a full disk: %s, want ok or SystemError", i, proto.CodeName(code))
		}
	}
	if !failed {
		t.Fatal("400 MiB of writes on a full 192 MiB filesystem all succeeded")
	}
	// Reads go on, and show the last acknowledged value, not the undone one.
	var gd proto.GetDataResponse
	if code := c.call(proto.OpGetData, &proto.GetDataRequest{Path: "/kept"}, &gd); code != 0 {
		t.Fatalf("read on a full disk: %s", proto.CodeName(code))
	}
	var ex proto.ExistsResponse
	mustCall(t, c, proto.OpExists, &proto.ExistsRequest{Path: "/kept"}, &ex)
	if gd.Stat.Version != ex.Stat.Version {
		t.Errorf("two reads disagree on the version: %d and %d", gd.Stat.Version, ex.Stat.Version)
	}

	// Free the space: after the backoff, writes succeed again.
	free()
	deadline := time.Now().Add(60 * time.Second)
	for {
		code := c.call(proto.OpCreate, &proto.CreateRequest{Path: "/after", ACL: znode.OpenACLUnsafe}, nil)
		if code == 0 {
			break
		}
		if code != proto.CodeSystemError || time.Now().After(deadline) {
			t.Fatalf("create after freeing space: %s", proto.CodeName(code))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
