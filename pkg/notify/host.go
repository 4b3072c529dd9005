package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// Errors a plugin start or run can end with. Status.LastError and the logs
// carry the detail; errors.Is on the error of a failed plugin (Status.Err)
// tells the kind.
var (
	// ErrChecksum: the executable's SHA-256 differs from the pinned one.
	ErrChecksum = errors.New("notify: plugin checksum mismatch")
	// ErrNotPlugin: the executable did not speak the plugin handshake.
	ErrNotPlugin = errors.New("notify: not a notifier plugin")
	// ErrHandshake: the executable is a plugin of another protocol
	// version or another kind.
	ErrHandshake = errors.New("notify: plugin handshake failed")
	// ErrConfigure: the plugin rejected its configuration.
	ErrConfigure = errors.New("notify: plugin rejected its configuration")
	// ErrStart: the process could not be started or exited before the
	// handshake; retried with backoff.
	ErrStart = errors.New("notify: plugin did not start")
	// ErrTimeout: a Notify call did not return within NotifyTimeout; the
	// process is killed and restarted.
	ErrTimeout = errors.New("notify: plugin did not answer in time")
	// ErrCrashLoop: the plugin failed MaxFailures times in a row; it is
	// left failed until RetryFailedAfter has passed.
	ErrCrashLoop = errors.New("notify: plugin keeps failing")
)

// Defaults of the Options tunables; each field's comment says why.
const (
	DefaultStartTimeout     = 10 * time.Second
	DefaultNotifyTimeout    = 30 * time.Second
	DefaultMinBackoff       = 200 * time.Millisecond
	DefaultMaxBackoff       = 30 * time.Second
	DefaultMaxFailures      = 8
	DefaultHealthInterval   = 30 * time.Second
	DefaultRetryFailedAfter = 5 * time.Minute
)

// Options configure a Host. Zero values mean the defaults.
type Options struct {
	// Plugins are the notifiers to run.
	Plugins []PluginConfig
	// DataDir holds one ack file per plugin (<name>.ack), the durable
	// record of its last acknowledged zxid. Required when Plugins is not
	// empty; created if missing.
	DataDir string
	// History is the change log delivery resumes from. nil makes the host
	// keep its own in-memory Ring (see Ring), fed by Sink.
	History History
	// Ring bounds the host's own ring when History is nil.
	Ring RingOptions
	// Logger receives structured logs. Default slog.Default().
	Logger *slog.Logger
	// StartTimeout bounds a plugin's start: process launch, handshake and
	// Configure. Default 10s, ample for a local process to exec and
	// answer.
	StartTimeout time.Duration
	// NotifyTimeout bounds one Notify call; a plugin that does not answer
	// in time is killed and restarted. Default 30s: room for a plugin's
	// own retries against a slow downstream.
	NotifyTimeout time.Duration
	// MinBackoff and MaxBackoff bound the exponential delay between
	// restarts and retries. Defaults 200ms and 30s. A MaxBackoff below
	// MinBackoff is raised to it.
	MinBackoff, MaxBackoff time.Duration
	// MaxFailures is how many starts or crashes in a row (without a
	// successful batch in between) are tolerated before a plugin is
	// reported failed. Default 8: with the default backoff, about a
	// minute of trying.
	MaxFailures int
	// HealthInterval is how often an idle plugin that implements health
	// checks is asked. Default 30s.
	HealthInterval time.Duration
	// RetryFailedAfter is how long a plugin stays in StateFailed before it
	// is started again from scratch, with a fresh failure count, resuming
	// from its last acknowledged zxid (see "Recovery" in the package
	// documentation). Default 5m: long against the minute a crash loop
	// takes with the default backoff, so a broken plugin costs one start
	// attempt and a few log lines every few minutes, and short enough that
	// a fixed binary or a downstream that came back is picked up without
	// an operator restarting zkx, usually while the change history still
	// reaches back. Negative disables it: a failed plugin stays failed
	// until the host is recreated.
	RetryFailedAfter time.Duration
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.NotifyTimeout <= 0 {
		o.NotifyTimeout = DefaultNotifyTimeout
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = DefaultHealthInterval
	}
	if o.RetryFailedAfter == 0 {
		o.RetryFailedAfter = DefaultRetryFailedAfter
	}
}

// Host runs the notifier plugins of one server. Sink is called by the
// server's commit path; Start, Status and Close may be called from any
// goroutine. Sink must be called from one goroutine at a time, with
// non-decreasing zxids.
type Host struct {
	opts    Options
	log     *slog.Logger
	ring    *Ring // the host's own history, nil when Options.History is set
	history History
	runners []*runner

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New validates the options and prepares the plugins. It starts nothing;
// Sink may be called before Start (events are queued).
func New(opts Options) (*Host, error) {
	opts.setDefaults()
	var errs []error
	seen := map[string]bool{}
	for _, p := range opts.Plugins {
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("notify: plugin name %q used twice", p.Name))
		}
		seen[p.Name] = true
	}
	if len(opts.Plugins) > 0 && opts.DataDir == "" {
		errs = append(errs, errors.New("notify: Options.DataDir is required for ack files"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	h := &Host{opts: opts, log: opts.Logger, history: opts.History}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if len(opts.Plugins) > 0 {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("notify: data dir: %w", err)
		}
	}
	if h.history == nil {
		ro := opts.Ring
		for _, p := range opts.Plugins {
			ro.KeepData = ro.KeepData || p.IncludeData
		}
		h.ring = NewRing(ro)
		h.history = h.ring
	}
	for _, p := range opts.Plugins {
		r, err := newRunner(h, p)
		if err != nil {
			return nil, err
		}
		h.runners = append(h.runners, r)
	}
	return h, nil
}

// Start launches every plugin in the background. A plugin that cannot
// start is retried or reported failed; it never makes Start fail.
func (h *Host) Start() {
	h.once.Do(func() {
		for _, r := range h.runners {
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				r.run(h.ctx)
			}()
		}
	})
}

// Sink takes the events of one transaction, after it is durable. It never
// blocks on a plugin: each plugin's matching events go to its bounded
// queue, and when the queue is full the plugin falls back to reading the
// history once it catches up. It has the signature of
// server.Options.EventSink. The events must not be modified afterwards.
func (h *Host) Sink(events []znode.Event) {
	if len(events) == 0 {
		return
	}
	if h.ring != nil {
		h.ring.Append(events)
	}
	for _, r := range h.runners {
		r.offer(events)
	}
}

// Status returns the state of every plugin, in configuration order.
func (h *Host) Status() []Status {
	out := make([]Status, len(h.runners))
	for i, r := range h.runners {
		out[i] = r.status()
	}
	return out
}

// RetryFailed starts every plugin in StateFailed again now, from scratch,
// without waiting for RetryFailedAfter (and also when retrying is
// disabled): for an operator who has fixed the cause. It returns the names
// of the plugins asked, in configuration order; plugins in any other state
// are left alone.
func (h *Host) RetryFailed() []string {
	var names []string
	for _, r := range h.runners {
		r.mu.Lock()
		failed := r.st.State == StateFailed
		r.mu.Unlock()
		if !failed {
			continue
		}
		select {
		case r.retry <- struct{}{}:
		default: // already asked
		}
		names = append(names, r.cfg.Name)
	}
	return names
}

// Close stops every plugin, saving each one's acknowledged position, and
// waits for them or for ctx.
func (h *Host) Close(ctx context.Context) error {
	h.cancel()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("notify: close: %w", ctx.Err())
	}
}

func ackPath(dir, name string) string { return filepath.Join(dir, name+".ack") }
