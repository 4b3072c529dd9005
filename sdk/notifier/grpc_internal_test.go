package notifier

import (
	"context"
	"errors"
	"testing"

	"github.com/zkx-dev/zkx/sdk/notifier/internal/pb"
)

// ctxErrNotifier returns its context's error from every call.
type ctxErrNotifier struct{}

func (ctxErrNotifier) Notify(ctx context.Context, _ []Event) error   { return ctx.Err() }
func (ctxErrNotifier) Configure(ctx context.Context, _ Config) error { return ctx.Err() }
func (ctxErrNotifier) Health(ctx context.Context) error              { return ctx.Err() }

// TestPluginSideDeadlineReadsAsDeadline: the plugin's side holds the
// call's deadline a moment after the host, so its answer may reach the
// host first. A plugin that gives up on that deadline must still read as
// a deadline to the host, not as an error of its own (for Configure, a
// rejected configuration would fail the plugin for good).
func TestPluginSideDeadlineReadsAsDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	s := &server{impl: ctxErrNotifier{}}
	calls := []struct {
		name string
		call func() error
	}{
		{"Notify", func() error { _, err := s.Notify(ctx, &pb.NotifyRequest{}); return err }},
		{"Configure", func() error { _, err := s.Configure(ctx, &pb.ConfigureRequest{}); return err }},
		{"Health", func() error { _, err := s.Health(ctx, &pb.HealthRequest{}); return err }},
	}
	for _, c := range calls {
		err := callError(c.call())
		var pe *PluginError
		if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &pe) {
			t.Errorf("%s past its deadline reads on the host as %v (%T), want context.DeadlineExceeded", c.name, err, err)
		}
	}
}
