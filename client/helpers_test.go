package client

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/server"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
)

const waitTimeout = 5 * time.Second

// startServer runs an in-process zkx server for the test. Its 50 ms tick
// would cap sessions at 1 s; MaxSessionTimeout lets a test have the
// timeout it asks for (2 s by default, see connect).
func startServer(t testing.TB) string {
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

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a client and closes it when the test ends.
func connect(t testing.TB, servers string, opts Options) *Client {
	t.Helper()
	if opts.SessionTimeout == 0 {
		opts.SessionTimeout = 2 * time.Second
	}
	c, err := Connect(testCtx(t), servers, opts)
	if err != nil {
		t.Fatalf("Connect(%s): %v", servers, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// cutter is a Dialer that remembers its connections so a test can cut
// them, and can refuse new ones.
type cutter struct {
	mu      sync.Mutex
	conns   []net.Conn
	blocked bool
	dials   int
}

func (d *cutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.dials++
	blocked := d.blocked
	d.mu.Unlock()
	if blocked {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errBlocked}
	}
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.conns = append(d.conns, nc)
	d.mu.Unlock()
	return nc, nil
}

type blockedErr struct{}

func (blockedErr) Error() string { return "dial blocked by test" }

var errBlocked = blockedErr{}

// cut closes every connection dialed so far.
func (d *cutter) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
}

func (d *cutter) block(b bool) {
	d.mu.Lock()
	d.blocked = b
	d.mu.Unlock()
}

// stateRecorder collects state changes.
type stateRecorder struct {
	ch chan State
}

func newStateRecorder() *stateRecorder { return &stateRecorder{ch: make(chan State, 100)} }

func (s *stateRecorder) fn(st State) { s.ch <- st }

func (s *stateRecorder) waitFor(t testing.TB, want State) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case st := <-s.ch:
			if st == want {
				return
			}
		case <-deadline:
			t.Fatalf("state %s not reached", want)
		}
	}
}

func nextEvent(t testing.TB, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("event channel closed")
		}
		return ev
	case <-time.After(waitTimeout):
		t.Fatalf("no event within %v", waitTimeout)
	}
	return Event{}
}

// firstEvent takes ch's first event as soon as it is delivered and hands
// it on; the returned channel is closed without an event if ch is.
func firstEvent(ch <-chan Event) <-chan Event {
	out := make(chan Event, 1)
	go func() {
		defer close(out)
		if ev, ok := <-ch; ok {
			out <- ev
		}
	}()
	return out
}

func noEvent(t testing.TB, ch <-chan Event, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %v", ev)
		}
		t.Fatalf("channel closed unexpectedly")
	case <-time.After(d):
	}
}

// nodeEvents reads n events, skipping session (None) events.
func nodeEvents(t testing.TB, ch <-chan Event, n int) []Event {
	t.Helper()
	var out []Event
	for len(out) < n {
		ev := nextEvent(t, ch)
		if ev.Type == EventNone {
			continue
		}
		out = append(out, ev)
	}
	return out
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func mustCreate(t testing.TB, c *Client, path string, data []byte, opts CreateOptions) (string, Stat) {
	t.Helper()
	p, st, err := c.Create(testCtx(t), path, data, opts)
	if err != nil {
		t.Fatalf("Create(%s): %v", path, err)
	}
	return p, st
}
