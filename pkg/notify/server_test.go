package notify

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkx-dev/zkx/pkg/server"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// startServer runs a memory-backed zkx server whose event sink is sink and
// returns a go-zookeeper connection to it.
func startServer(tb testing.TB, sink func(h *Host) *Host) (*zk.Conn, *Host) {
	tb.Helper()
	h := sink(nil)
	opts := server.Options{
		Listen:  "127.0.0.1:0",
		Backend: memory.New(),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if h != nil {
		opts.EventSink = h.Sink
	}
	s, err := server.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	c, _, err := zk.Connect([]string{s.Addr().String()}, 5*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c, h
}

// TestServerEventsReachPlugin runs the whole path: a ZooKeeper client
// writes to a zkx server, whose sink feeds the host, which delivers to a
// plugin process.
func TestServerEventsReachPlugin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events.jsonl")
	var h *testHost
	c, _ := startServer(t, func(*Host) *Host {
		h = startHost(t, Options{Plugins: []PluginConfig{{
			Name: "audit", Command: recorderBin(t), Args: []string{"--out", out},
			Paths: []string{"/app"}, IncludeData: true,
		}}})
		return h.Host
	})
	acl := zk.WorldACL(zk.PermAll)
	mustDo := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustDo(c.Create("/apple", nil, 0, acl))
	mustDo(c.Create("/app", []byte("v0"), 0, acl))
	mustDo(c.Create("/app/x", []byte("x0"), 0, acl))
	mustDo(c.Set("/app/x", []byte("x1"), -1))
	mustDo(c.Create("/apple/y", nil, 0, acl))
	mustDo(nil, c.Delete("/app/x", -1))

	want := []string{
		"created /app v0",
		"created /app/x x0",
		"children /app ",
		"data /app/x x1",
		"deleted /app/x ",
		"children /app ",
	}
	var got []recorded
	waitFor(t, delivery, "six events", func() bool { got = readRecorded(t, out); return len(got) >= len(want) })
	if len(got) != len(want) {
		t.Fatalf("got %d events: %+v", len(got), got)
	}
	var prev int64
	for i, r := range got {
		if s := fmt.Sprintf("%s %s %s", r.Type, r.Path, r.Data); s != want[i] {
			t.Errorf("event %d = %q, want %q", i, s, want[i])
		}
		if r.Zxid < prev {
			t.Errorf("zxid %d after %d", r.Zxid, prev)
		}
		prev = r.Zxid
	}
}

// BenchmarkServerWrites measures create throughput through a real client
// with no plugin, with a healthy plugin, and with a plugin stuck in
// Notify. The stuck plugin must not slow writes down.
func BenchmarkServerWrites(b *testing.B) {
	for _, mode := range []string{"no-plugin", "healthy-plugin", "stuck-plugin"} {
		b.Run(mode, func(b *testing.B) {
			dir := b.TempDir()
			stuck := filepath.Join(dir, "stuck")
			if mode == "stuck-plugin" {
				os.WriteFile(stuck, nil, 0o644)
			}
			var h *Host
			c, _ := startServer(b, func(*Host) *Host {
				if mode == "no-plugin" {
					return nil
				}
				var err error
				h, err = New(Options{
					Plugins: []PluginConfig{{
						Name: "p", Command: recorderBin(b),
						Args:        []string{"--out", filepath.Join(dir, "out.jsonl"), "--stuck", stuck},
						QueueEvents: 1000,
					}},
					DataDir:       dir,
					Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
					NotifyTimeout: time.Hour,
				})
				if err != nil {
					b.Fatal(err)
				}
				h.Start()
				b.Cleanup(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					h.Close(ctx)
				})
				return h
			})
			if _, err := c.Create("/b", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Create(fmt.Sprintf("/b/n%d", n.Add(1)), []byte("v"), 0, zk.WorldACL(zk.PermAll)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
			if h != nil {
				st := h.Status()[0]
				b.ReportMetric(float64(st.QueueDepth), "queue-depth")
				if st.QueueDepth > st.QueueCapacity {
					b.Errorf("queue depth %d over capacity %d", st.QueueDepth, st.QueueCapacity)
				}
			}
		})
	}
}

// BenchmarkSink measures what the commit path pays per transaction: the
// host's Sink with a plugin whose queue has room (healthy), and with one
// that is stuck (queue full, lagging).
func BenchmarkSink(b *testing.B) {
	for _, mode := range []string{"healthy", "stuck"} {
		b.Run(mode, func(b *testing.B) {
			dir := b.TempDir()
			stuck := filepath.Join(dir, "stuck")
			if mode == "stuck" {
				os.WriteFile(stuck, nil, 0o644)
			}
			h, err := New(Options{
				Plugins: []PluginConfig{{
					Name: "p", Command: recorderBin(b), QueueEvents: 1000,
					Args: []string{"--out", filepath.Join(dir, "out.jsonl"), "--stuck", stuck},
				}},
				DataDir:       dir,
				Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
				NotifyTimeout: time.Hour,
			})
			if err != nil {
				b.Fatal(err)
			}
			h.Start()
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				h.Close(ctx)
			})
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				z := int64(i + 1)
				h.Sink([]znode.Event{ev(z, znode.EventNodeCreated, "/app/node"), ev(z, znode.EventNodeChildrenChanged, "/app")})
			}
		})
	}
}
