// Package notifiertest runs a notifier plugin in-process for its tests.
//
// Start serves a Notifier over a real gRPC connection on loopback, exactly
// as the zkx host speaks to a plugin process, and returns the host's side.
// A plugin's test sends batches through it and checks what the plugin did:
//
//	func TestPrinter(t *testing.T) {
//		c := notifiertest.Start(t, printer{})
//		err := c.Notify(context.Background(), []notifier.Event{
//			{Type: notifier.EventCreated, Path: "/app/x", Zxid: 1},
//		})
//		...
//	}
//
// The connection is closed when the test ends.
package notifiertest

import (
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/zkx-dev/zkx/sdk/notifier"
)

// Start serves impl in-process and returns a client connected to it, the
// same client zkx uses. Configure and Health return
// notifier.ErrUnimplemented when impl lacks the capability; errors impl
// returns from Notify arrive as *notifier.PluginError.
func Start(t testing.TB, impl notifier.Notifier) *notifier.Client {
	t.Helper()
	p := &notifier.Plugin{Impl: impl}
	conn, srv := plugin.TestGRPCConn(t, func(s *grpc.Server) {
		if err := p.GRPCServer(nil, s); err != nil {
			t.Fatalf("notifiertest: %v", err)
		}
	})
	t.Cleanup(func() {
		conn.Close()
		stopped := make(chan struct{})
		go func() { srv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			// A Notify that never returns must not hang the test binary.
			srv.Stop()
		}
	})
	return notifier.NewClient(conn)
}

// Events is a convenience for building a batch in tests: one event per
// path, all of type typ, with increasing zxids starting at first.
func Events(typ notifier.EventType, first int64, paths ...string) []notifier.Event {
	out := make([]notifier.Event, len(paths))
	for i, p := range paths {
		out[i] = notifier.Event{Type: typ, Path: p, Zxid: first + int64(i), Time: time.UnixMilli(first + int64(i))}
	}
	return out
}
