package server

import (
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// waitGone polls until path no longer exists.
func waitGone(t *testing.T, c *rawClient, path string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.call(proto.OpExists, &proto.ExistsRequest{Path: path}, nil) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s still exists after 5s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestContainerDeletedOnceEmpty(t *testing.T) {
	s := startTestServer(t, func(o *Options) { o.ContainerCheckInterval = 50 * time.Millisecond })
	c := connectRaw(t, s.Addr().String())
	w := connectRaw(t, s.Addr().String())
	var cr proto.Create2Response
	if code := c.call(proto.OpCreateContainer, &proto.CreateRequest{Path: "/lockdir", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeContainer)}, &cr); code != 0 {
		t.Fatalf("createContainer: %s", proto.CodeName(code))
	}
	if cr.Stat.EphemeralOwner != 0 {
		t.Errorf("container ephemeralOwner = %x, want 0 as clients see it", cr.Stat.EphemeralOwner)
	}
	// A container that never had a child is kept (max_never_used is off).
	c.call(proto.OpCreate, &proto.CreateRequest{Path: "/lockdir/lock-1", ACL: znode.OpenACLUnsafe}, nil)
	time.Sleep(150 * time.Millisecond)
	if code := c.call(proto.OpExists, &proto.ExistsRequest{Path: "/lockdir"}, nil); code != 0 {
		t.Fatalf("non-empty container was deleted: %s", proto.CodeName(code))
	}
	w.call(proto.OpExists, &proto.ExistsRequest{Path: "/lockdir", Watch: true}, nil)
	c.call(proto.OpDelete, &proto.DeleteRequest{Path: "/lockdir/lock-1", Version: -1}, nil)
	waitGone(t, c, "/lockdir")
	if evs := w.events(); len(evs) != 1 || evs[0].Type != int32(znode.EventNodeDeleted) {
		t.Errorf("watcher of the container saw %+v, want NodeDeleted", evs)
	}
}

func TestTTLNodes(t *testing.T) {
	t.Run("disabled by default", func(t *testing.T) {
		s := startTestServer(t, nil)
		c := connectRaw(t, s.Addr().String())
		code := c.call(proto.OpCreateTTL, &proto.CreateTTLRequest{Path: "/t", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModePersistentWithTTL), TTL: 1000}, nil)
		if code != proto.CodeUnimplemented {
			t.Errorf("createTTL without extended types: %s, want Unimplemented", proto.CodeName(code))
		}
	})
	t.Run("expires after its ttl", func(t *testing.T) {
		s := startTestServer(t, func(o *Options) {
			o.ExtendedTypes = true
			o.ContainerCheckInterval = 50 * time.Millisecond
		})
		c := connectRaw(t, s.Addr().String())
		var cr proto.Create2Response
		code := c.call(proto.OpCreateTTL, &proto.CreateTTLRequest{Path: "/t", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModePersistentWithTTL), TTL: 200}, &cr)
		if code != 0 {
			t.Fatalf("createTTL: %s", proto.CodeName(code))
		}
		if cr.Stat.EphemeralOwner != 0 {
			t.Errorf("TTL node ephemeralOwner = %x, want 0 as clients see it", cr.Stat.EphemeralOwner)
		}
		for _, ttl := range []int64{0, -5, znode.MaxTTL + 1} {
			if code := c.call(proto.OpCreateTTL, &proto.CreateTTLRequest{Path: "/bad", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModePersistentWithTTL), TTL: ttl}, nil); code != proto.CodeBadArguments {
				t.Errorf("ttl %d: %s, want BadArguments", ttl, proto.CodeName(code))
			}
		}
		waitGone(t, c, "/t")
	})
}
