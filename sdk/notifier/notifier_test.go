package notifier_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/sdk/notifier"
	"github.com/zkx-dev/zkx/sdk/notifier/notifiertest"
)

// memory records what it is sent and implements every capability.
type memory struct {
	mu      sync.Mutex
	batches [][]notifier.Event
	cfg     notifier.Config
	err     error
	health  error
}

func (m *memory) Notify(_ context.Context, evs []notifier.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.batches = append(m.batches, evs)
	return nil
}

func (m *memory) Configure(_ context.Context, cfg notifier.Config) error {
	m.mu.Lock()
	m.cfg = cfg
	m.mu.Unlock()
	if cfg.Name == "reject" {
		return errors.New("bad name")
	}
	return nil
}

// first returns the first batch received and forgets all of them.
func (m *memory) first() []notifier.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.batches) == 0 {
		return nil
	}
	b := m.batches[0]
	m.batches = nil
	return b
}

func (m *memory) config() notifier.Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}

func (m *memory) Health(context.Context) error { return m.health }

// bare implements Notify only.
type bare struct{}

func (bare) Notify(context.Context, []notifier.Event) error { return nil }

func TestEventsCrossTheWireIntact(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	tests := []struct {
		name string
		ev   notifier.Event
	}{
		{"created with data", notifier.Event{Type: notifier.EventCreated, Path: "/app/x", Zxid: 1 << 40, Time: at, Version: 0, Data: []byte("v"), HasData: true}},
		{"created with empty data", notifier.Event{Type: notifier.EventCreated, Path: "/e", Zxid: 2, Time: at, Data: []byte{}, HasData: true}},
		{"data changed without data", notifier.Event{Type: notifier.EventDataChanged, Path: "/app", Zxid: 3, Time: at, Version: 7}},
		{"deleted", notifier.Event{Type: notifier.EventDeleted, Path: "/app/x", Zxid: 4, Time: at}},
		{"children changed", notifier.Event{Type: notifier.EventChildrenChanged, Path: "/", Zxid: 5, Time: at, Version: 3}},
		{"gap", notifier.Event{Type: notifier.EventGap, Zxid: 90, GapStart: 6, GapEnd: 90}},
	}
	m := &memory{}
	c := notifiertest.Start(t, m)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Notify(context.Background(), []notifier.Event{tt.ev}); err != nil {
				t.Fatal(err)
			}
			got := m.first()[0]
			want := tt.ev
			if got.Type != want.Type || got.Path != want.Path || got.Zxid != want.Zxid || !got.Time.Equal(want.Time) ||
				got.Version != want.Version || got.HasData != want.HasData || string(got.Data) != string(want.Data) ||
				(got.Data == nil) != (want.Data == nil) || got.GapStart != want.GapStart || got.GapEnd != want.GapEnd {
				t.Errorf("got %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestBatchOrderIsKept(t *testing.T) {
	m := &memory{}
	c := notifiertest.Start(t, m)
	batch := notifiertest.Events(notifier.EventCreated, 10, "/a", "/b", "/c")
	if err := c.Notify(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for i, ev := range m.first() {
		if ev.Zxid != int64(10+i) || ev.Path != batch[i].Path {
			t.Errorf("event %d = %v", i, ev)
		}
	}
}

func TestErrorsAndCapabilities(t *testing.T) {
	m := &memory{err: errors.New("downstream down"), health: errors.New("cannot reach broker")}
	c := notifiertest.Start(t, m)
	ctx := context.Background()

	var pe *notifier.PluginError
	if err := c.Notify(ctx, nil); !errors.As(err, &pe) || pe.Msg != "downstream down" {
		t.Errorf("Notify error = %v, want PluginError(downstream down)", err)
	}
	cfg := notifier.Config{Name: "audit", Paths: []string{"/app"}, Events: []string{"created"}, IncludeData: true}
	if err := c.Configure(ctx, cfg); err != nil {
		t.Errorf("Configure: %v", err)
	} else if got := m.config(); got.Name != "audit" || got.Paths[0] != "/app" || !got.IncludeData {
		t.Errorf("plugin saw configuration %+v", got)
	}
	if err := c.Configure(ctx, notifier.Config{Name: "reject"}); !errors.As(err, &pe) || pe.Msg != "bad name" {
		t.Errorf("rejected Configure error = %v", err)
	}
	if err := c.Health(ctx); err == nil || errors.Is(err, notifier.ErrUnimplemented) {
		t.Errorf("Health = %v, want the plugin's error", err)
	}

	b := notifiertest.Start(t, bare{})
	if err := b.Configure(ctx, cfg); !errors.Is(err, notifier.ErrUnimplemented) {
		t.Errorf("Configure on a bare plugin = %v, want ErrUnimplemented", err)
	}
	if err := b.Health(ctx); !errors.Is(err, notifier.ErrUnimplemented) {
		t.Errorf("Health on a bare plugin = %v, want ErrUnimplemented", err)
	}
}

func TestEventTypeNames(t *testing.T) {
	for typ, want := range map[notifier.EventType]string{
		notifier.EventCreated: "created", notifier.EventDeleted: "deleted", notifier.EventDataChanged: "data",
		notifier.EventChildrenChanged: "children", notifier.EventGap: "gap", 42: "EventType(42)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int32(typ), got, want)
		}
	}
}

// blocker never returns from Notify until its context ends.
type blocker struct{}

func (blocker) Notify(ctx context.Context, _ []notifier.Event) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestDeadlineIsReportedAsDeadline(t *testing.T) {
	c := notifiertest.Start(t, blocker{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Notify(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Notify past its deadline = %v, want context.DeadlineExceeded", err)
	}
}
