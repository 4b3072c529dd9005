package recipe

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/client"
	"github.com/zkx-dev/zkx/pkg/server"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
)

const waitTimeout = 5 * time.Second

// startServer runs an in-process zkx server. Its 50 ms tick would cap
// sessions at 1 s; MaxSessionTimeout lets a test ask for longer.
func startServer(t *testing.T) string {
	t.Helper()
	srv, err := server.New(server.Options{Listen: "127.0.0.1:0", TickTime: 50 * time.Millisecond, MaxSessionTimeout: 30 * time.Second,
		Backend: memory.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv.Addr().String()
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a client with a 1 s session unless opts asks otherwise.
func connect(t *testing.T, addr string, opts client.Options) *client.Client {
	t.Helper()
	if opts.SessionTimeout == 0 {
		opts.SessionTimeout = time.Second
	}
	c, err := client.Connect(ctxT(t), addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func create(t *testing.T, c *client.Client, path, data string) {
	t.Helper()
	if _, _, err := c.Create(ctxT(t), path, []byte(data), client.CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
}

// dropper is a Dialer whose connections a test can cut.
type dropper struct {
	mu    sync.Mutex
	conns []net.Conn
	block bool
}

func (d *dropper) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.block {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.ErrClosed}
	}
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, network, addr)
	if err == nil {
		d.conns = append(d.conns, nc)
	}
	return nc, err
}

func (d *dropper) cut(block bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.block = block
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
}

func (d *dropper) unblock() {
	d.mu.Lock()
	d.block = false
	d.mu.Unlock()
}

// waitChange reads changes until one matches.
func waitChange(t *testing.T, tc *TreeCache, typ ChangeType, path string) Change {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case ch, ok := <-tc.Changes():
			if !ok {
				t.Fatal("changes channel closed")
			}
			if ch.Type == typ && ch.Path == path {
				return ch
			}
		case <-deadline:
			t.Fatalf("no %s %s", typ, path)
		}
	}
}

func TestTreeCache(t *testing.T) {
	addr := startServer(t)
	var d dropper
	// The cache's session must outlive the time it is kept out in "rebuild
	// after reconnect", plus the client's reconnect backoff (up to 1 s),
	// however slow a loaded machine makes the writer's calls meanwhile.
	c := connect(t, addr, client.Options{Dialer: d.dial, SessionTimeout: 10 * time.Second})
	writer := connect(t, addr, client.Options{})
	create(t, writer, "/app", "root")
	create(t, writer, "/app/a", "1")
	create(t, writer, "/app/a/x", "2")
	create(t, writer, "/apple", "sibling, not cached")

	tc := NewTreeCache(c, "/app")
	if err := tc.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	defer tc.Close(ctxT(t))
	for _, p := range []string{"/app", "/app/a", "/app/a/x"} {
		waitChange(t, tc, NodeAdded, p)
	}
	if data, _, ok := tc.Get("/app/a/x"); !ok || string(data) != "2" {
		t.Fatalf("Get /app/a/x = %q %v", data, ok)
	}
	if _, _, ok := tc.Get("/apple"); ok {
		t.Fatal("sibling-prefix node cached")
	}

	steps := []struct {
		name   string
		do     func() error
		typ    ChangeType
		path   string
		verify func() bool
	}{
		{"create", func() error {
			_, _, err := writer.Create(ctxT(t), "/app/b", []byte("3"), client.CreateOptions{})
			return err
		},
			NodeAdded, "/app/b", func() bool { kids, _ := tc.Children("/app"); return slices.Equal(kids, []string{"a", "b"}) }},
		{"set", func() error { _, err := writer.Set(ctxT(t), "/app/a/x", []byte("22"), -1); return err },
			NodeUpdated, "/app/a/x", func() bool { data, _, _ := tc.Get("/app/a/x"); return string(data) == "22" }},
		{"delete", func() error {
			if err := writer.Delete(ctxT(t), "/app/a/x", -1); err != nil {
				return err
			}
			return writer.Delete(ctxT(t), "/app/a", -1)
		}, NodeRemoved, "/app/a", func() bool {
			kids, _ := tc.Children("/app")
			_, _, ok := tc.Get("/app/a/x")
			return slices.Equal(kids, []string{"b"}) && !ok
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.do(); err != nil {
				t.Fatal(err)
			}
			waitChange(t, tc, s.typ, s.path)
			if !s.verify() {
				t.Fatal("cache does not reflect the change")
			}
		})
	}

	t.Run("rebuild after reconnect", func(t *testing.T) {
		d.cut(true)
		time.Sleep(50 * time.Millisecond)
		create(t, writer, "/app/missed", "m")
		if err := writer.Delete(ctxT(t), "/app/b", -1); err != nil {
			t.Fatal(err)
		}
		d.unblock()
		waitChange(t, tc, NodeAdded, "/app/missed")
		if _, _, ok := tc.Get("/app/b"); ok {
			t.Fatal("/app/b still cached after rebuild")
		}
	})
}

func TestLeaderLatch(t *testing.T) {
	addr := startServer(t)
	var clients []*client.Client
	var latches []*LeaderLatch
	for i := range 3 {
		c := connect(t, addr, client.Options{})
		l := NewLeaderLatch(c, "/election/svc", []byte{byte('a' + i)})
		if err := l.Start(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		latches = append(latches, l)
	}
	expectLeader := func(want int) {
		t.Helper()
		select {
		case v := <-latches[want].Leadership():
			if !v {
				t.Fatalf("latch %d reported loss", want)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("latch %d did not become leader", want)
		}
		for i, l := range latches {
			if i != want && l.IsLeader() {
				t.Fatalf("latch %d also leads", i)
			}
		}
	}
	expectLeader(0)

	// The leader leaves: the next in line takes over.
	if err := latches[0].Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	expectLeader(1)

	// The new leader's session ends: its ephemeral node goes with it.
	clients[1].Close()
	expectLeader(2)
	if latches[1].IsLeader() {
		t.Fatal("closed latch still leads")
	}
}
