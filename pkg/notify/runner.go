package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/zkx-dev/zkx/pkg/znode"
	"github.com/zkx-dev/zkx/sdk/notifier"
)

// scanLimit bounds the history events one read looks at: a few hundred
// microseconds of filtering at most.
const scanLimit = 4096

// unbounded is the upper zxid of a catch-up that reads to the end of the
// history: before any transaction was offered, the host does not know the
// server's newest zxid, and the history does.
const unbounded = math.MaxInt64

// runner delivers to one plugin. The sink side (offer) and the sender
// goroutine (run) share the fields under mu; the fields after them belong
// to the sender alone.
type runner struct {
	h       *Host
	cfg     PluginConfig
	f       filter
	log     *slog.Logger
	ackPath string
	wake    chan struct{} // capacity 1: "something changed"
	retry   chan struct{} // capacity 1: the operator asks a failed plugin to start again

	mu       sync.Mutex
	queue    []znode.Event // queue[head:] waits, oldest first
	head     int
	qbytes   int
	lagging  bool  // deliver from the history until caught up
	sinkZxid int64 // newest transaction offered; 0 before any
	origin   int64 // for a plugin without ack file, the zxid before the first transaction offered; -1 unknown
	floor    int64 // transactions with zxid <= floor were read from the history: offer skips them
	disabled bool  // failed: queue nothing
	pos      int64 // every event for the plugin with zxid <= pos is acknowledged; -1 unknown
	st       Status

	// Sender-owned.
	persisted   int64
	noReadAhead bool // the history cannot bound a gap on its own: wait for a transaction
	client      *plugin.Client
	nc          *notifier.Client
	starts      int
	failures    int  // starts and crashes in a row without a successful batch
	retries     int  // plugin errors in a row
	reviving    bool // started again after StateFailed, not yet up
	lastHC      time.Time
}

func newRunner(h *Host, cfg PluginConfig) (*runner, error) {
	cfg.setDefaults()
	r := &runner{
		h:       h,
		cfg:     cfg,
		f:       newFilter(cfg),
		log:     h.log.With("notifier", cfg.Name),
		ackPath: ackPath(h.opts.DataDir, cfg.Name),
		wake:    make(chan struct{}, 1),
		retry:   make(chan struct{}, 1),
		origin:  -1,
		floor:   -1,
		pos:     -1,
	}
	r.st = Status{Name: cfg.Name, State: StateStarting, QueueCapacity: cfg.QueueEvents, LastAcked: -1, Health: "unknown"}
	zxid, ok, err := readAck(r.ackPath)
	if err != nil {
		return nil, err
	}
	r.persisted = -1
	if ok {
		// Resume: everything after zxid comes from the history.
		r.pos, r.persisted, r.lagging = zxid, zxid, true
		r.st.LastAcked, r.st.Lagging = zxid, true
	}
	return r, nil
}

func (r *runner) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// trim returns the part of ev a plugin's queue keeps.
func (r *runner) trim(ev znode.Event) znode.Event {
	ev.ACL = nil
	if !r.cfg.IncludeData || (ev.Type != znode.EventNodeCreated && ev.Type != znode.EventNodeDataChanged) {
		ev.Data = nil
	}
	return ev
}

func eventBytes(ev *znode.Event) int { return 64 + len(ev.Path) + len(ev.Data) }

// offer queues the plugin's events of one transaction. It never blocks on
// the sender: mu is only held by the sender for short, I/O-free sections.
func (r *runner) offer(events []znode.Event) {
	n, size := 0, 0
	for i := range events {
		if r.f.match(&events[i]) {
			n++
			size += 64 + len(events[i].Path)
			if r.cfg.IncludeData {
				size += len(events[i].Data)
			}
		}
	}
	zxid := events[0].Zxid
	r.mu.Lock()
	if zxid <= r.floor {
		// Already delivered from the history while catching up.
		r.mu.Unlock()
		return
	}
	if r.origin < 0 {
		r.origin = zxid - 1
	}
	r.sinkZxid = zxid
	if r.disabled || (n == 0 && !r.lagging) {
		r.mu.Unlock()
		return
	}
	if !r.lagging && n > 0 {
		depth := len(r.queue) - r.head
		if depth+n > r.cfg.QueueEvents || r.qbytes+size > r.cfg.QueueBytes {
			// The transaction is left out whole; the sender will read it
			// and everything after it from the history.
			r.lagging = true
			r.st.Lagging = true
			r.st.Overflows++
		} else {
			for i := range events {
				if r.f.match(&events[i]) {
					ev := r.trim(events[i])
					r.queue = append(r.queue, ev)
					r.qbytes += eventBytes(&ev)
				}
			}
			r.st.QueueDepth = depth + n
		}
	}
	r.mu.Unlock()
	r.signal()
}

func (r *runner) status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

func (r *runner) update(fn func(st *Status)) {
	r.mu.Lock()
	fn(&r.st)
	r.mu.Unlock()
}

// run is the sender: it takes batches, keeps the process alive and
// records acknowledgements, until ctx ends or the plugin fails for good.
func (r *runner) run(ctx context.Context) {
	defer func() {
		r.persist()
		r.stopProcess()
		r.update(func(st *Status) {
			st.PID, st.RetryAt = 0, time.Time{}
			if st.State != StateFailed {
				st.State = StateStopped
			}
		})
	}()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()

	var (
		pending   []notifier.Event
		end       int64
		attempted bool
	)
	for ctx.Err() == nil {
		if r.nc == nil {
			if err := r.startProcess(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				if !r.failed(ctx, err) {
					return
				}
				continue
			}
		}
		if pending == nil {
			b, e, ok := r.next(ctx, ticker.C)
			if !ok {
				continue
			}
			if len(b) == 0 {
				r.ack(e, nil)
				continue
			}
			pending, end, attempted = b, e, false
		}
		if attempted {
			r.update(func(st *Status) { st.Redelivered += uint64(len(pending)) })
		}
		attempted = true
		err := r.notify(ctx, pending)
		if err == nil {
			r.ack(end, pending)
			pending = nil
			continue
		}
		if ctx.Err() != nil {
			return
		}
		var pe *notifier.PluginError
		if errors.As(err, &pe) {
			// The plugin is alive and said no: retry the same batch.
			r.retries++
			r.log.Warn("notifier returned an error; retrying the batch", "err", pe.Msg, "events", len(pending), "attempt", r.retries)
			r.update(func(st *Status) { st.LastError = pe.Msg })
			r.sleep(ctx, r.backoff(r.retries))
			continue
		}
		if r.client != nil && r.client.Exited() {
			err = fmt.Errorf("plugin process exited: %w", err)
		}
		r.stopProcess()
		if !r.failed(ctx, err) {
			return
		}
	}
}

// failed records a start failure or crash, then waits out the backoff or,
// when the plugin has failed for good, the time until it is retried. It
// reports false when the plugin must not be started again.
func (r *runner) failed(ctx context.Context, err error) bool {
	r.failures++
	permanent := errors.Is(err, ErrChecksum) || errors.Is(err, ErrNotPlugin) ||
		errors.Is(err, ErrHandshake) || errors.Is(err, ErrConfigure)
	if !permanent && r.failures >= r.h.opts.MaxFailures {
		err = fmt.Errorf("%w (%d failures in a row): %w", ErrCrashLoop, r.failures, err)
		permanent = true
	}
	if permanent {
		return r.fail(ctx, err)
	}
	d := r.backoff(r.failures)
	r.log.Warn("notifier failed; restarting after backoff", "err", err, "failures", r.failures, "backoff", d)
	r.update(func(st *Status) { st.State, st.LastError, st.PID = StateBackoff, err.Error(), 0 })
	r.sleep(ctx, d)
	return true
}

// fail puts the plugin in StateFailed: nothing is queued for it any more
// and its queue is dropped; the history keeps what it misses. It then
// waits RetryFailedAfter (unless retrying is disabled) or for
// Host.RetryFailed, whichever comes first, and prepares a start from
// scratch that resumes delivery from the acknowledged position. It reports
// whether the plugin is to be started again (false once the host closes).
func (r *runner) fail(ctx context.Context, err error) bool {
	// A request made while the plugin was still running is not one for
	// this failure.
	select {
	case <-r.retry:
	default:
	}
	r.persist()
	wait := r.h.opts.RetryFailedAfter
	now := time.Now()
	var retryAt time.Time
	if wait > 0 {
		retryAt = now.Add(wait)
	}
	r.mu.Lock()
	failures, pos := r.st.Failures+1, r.pos
	r.mu.Unlock()
	// Logged before the state is published, so that whoever sees
	// StateFailed finds the reason in the log.
	if wait <= 0 {
		r.log.Error("notifier failed; it will not be restarted until asked (SIGHUP to zkx; the server keeps serving)",
			"err", err, "last_acked_zxid", pos)
	} else {
		r.log.Error("notifier failed; it will be started again from scratch after retry_failed_after, or when asked (SIGHUP to zkx; the server keeps serving)",
			"err", err, "retry_failed_after", wait, "retry_at", retryAt.Format(time.RFC3339), "times_failed", failures, "last_acked_zxid", pos)
	}
	r.mu.Lock()
	r.disabled = true
	r.queue, r.head, r.qbytes = nil, 0, 0
	r.st.State, r.st.Err, r.st.LastError, r.st.QueueDepth, r.st.PID = StateFailed, err, err.Error(), 0, 0
	r.st.Failures = failures
	r.st.FailedAt, r.st.RetryAt = now, retryAt
	r.mu.Unlock()
	var timer <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
	}
	cause := "retry_failed_after"
	select {
	case <-timer:
	case <-r.retry:
		cause = "asked"
	case <-ctx.Done():
		return false
	}

	r.failures, r.retries = 0, 0
	r.reviving = true
	r.mu.Lock()
	r.disabled = false
	// What was offered while failed was not queued: it comes from the
	// history, after the acknowledged position. A plugin that has no
	// position and was never offered anything has missed nothing.
	if r.pos >= 0 || r.origin >= 0 {
		r.lagging, r.st.Lagging = true, true
	}
	r.st.State, r.st.Err, r.st.RetryAt = StateStarting, nil, time.Time{}
	pos = r.pos
	r.mu.Unlock()
	r.log.Info("starting the failed notifier again from scratch", "cause", cause, "times_failed", failures, "last_acked_zxid", pos)
	return true
}

func (r *runner) backoff(n int) time.Duration {
	d := r.h.opts.MinBackoff
	for i := 1; i < n && d < r.h.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.h.opts.MaxBackoff)
}

func (r *runner) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// ack records that batch (possibly empty) was acknowledged up to end.
func (r *runner) ack(end int64, batch []notifier.Event) {
	r.failures, r.retries = 0, 0
	var gaps int
	var lastGap [2]int64
	for _, ev := range batch {
		if ev.Type == notifier.EventGap {
			gaps++
			lastGap = [2]int64{ev.GapStart, ev.GapEnd}
		}
	}
	r.mu.Lock()
	r.pos = max(r.pos, end)
	r.st.LastAcked = r.pos
	r.st.Delivered += uint64(len(batch) - gaps)
	if gaps > 0 {
		r.st.Gaps += uint64(gaps)
		r.st.LastGap = lastGap
	}
	r.mu.Unlock()
	if len(batch) > 0 {
		r.persist()
	}
}

// persist writes the acknowledged position when it changed.
func (r *runner) persist() {
	r.mu.Lock()
	pos := r.pos
	r.mu.Unlock()
	if pos < 0 || pos == r.persisted {
		return
	}
	if err := writeAck(r.ackPath, pos); err != nil {
		r.log.Error("cannot save the acknowledged zxid; a restart may redeliver", "path", r.ackPath, "err", err)
		return
	}
	r.persisted = pos
}

// next returns the next batch and the position it acknowledges, waiting
// for events. ok is false when it returns without one (a tick, a wake-up
// with nothing to do, ctx done); a batch may be empty when history was
// scanned without finding events for the plugin.
func (r *runner) next(ctx context.Context, tick <-chan time.Time) (batch []notifier.Event, end int64, ok bool) {
	ahead := r.canReadAhead()
	r.mu.Lock()
	if r.pos < 0 && r.origin >= 0 {
		r.pos = r.origin
	}
	if len(r.queue) > r.head {
		if len(r.queue)-r.head < r.cfg.BatchSize && !r.lagging {
			r.waitFill(ctx)
		}
		batch, end = r.takeQueued()
		r.mu.Unlock()
		return batch, end, true
	}
	if r.lagging && (r.sinkZxid > 0 || ahead) {
		upto, pos := r.sinkZxid, r.pos
		if upto == 0 {
			// Nothing offered yet (the host just started): read the
			// history to its end, without waiting for a new write.
			upto = unbounded
		}
		r.mu.Unlock()
		return r.catchUp(pos, upto)
	}
	if !r.lagging && r.sinkZxid > r.pos && r.pos >= 0 {
		// Nothing queued and not lagging: every event up to the newest
		// transaction has been delivered.
		r.pos = r.sinkZxid
		r.st.LastAcked = r.pos
	}
	r.mu.Unlock()
	select {
	case <-r.wake:
	case <-tick:
		r.persist()
		r.checkHealth(ctx)
	case <-ctx.Done():
	}
	return nil, 0, false
}

// waitFill waits, with mu held on entry and exit, until a full batch is
// queued or BatchDelay has passed.
func (r *runner) waitFill(ctx context.Context) {
	t := time.NewTimer(r.cfg.BatchDelay)
	defer t.Stop()
	for len(r.queue)-r.head < r.cfg.BatchSize && !r.lagging {
		r.mu.Unlock()
		select {
		case <-r.wake:
			r.mu.Lock()
			continue
		case <-t.C:
		case <-ctx.Done():
		}
		r.mu.Lock()
		return
	}
}

// takeQueued removes up to BatchSize queued events, never splitting a
// transaction. mu must be held.
func (r *runner) takeQueued() ([]notifier.Event, int64) {
	var out []notifier.Event
	last := int64(-1)
	for r.head < len(r.queue) {
		ev := &r.queue[r.head]
		if len(out) >= r.cfg.BatchSize && ev.Zxid != last {
			break
		}
		out = append(out, r.toEvent(*ev))
		last = ev.Zxid
		r.qbytes -= eventBytes(ev)
		*ev = znode.Event{}
		r.head++
	}
	if r.head == len(r.queue) {
		r.queue, r.head = r.queue[:0], 0
	} else if r.head > 1024 && r.head > len(r.queue)/2 {
		n := copy(r.queue, r.queue[r.head:])
		clear(r.queue[n:])
		r.queue, r.head = r.queue[:n], 0
	}
	r.st.QueueDepth = len(r.queue) - r.head
	return out, last
}

// canReadAhead reports whether a lagging plugin may catch up before any
// transaction was offered, reading the history to its end. The host's own
// Ring cannot serve that: before its first Append it knows nothing, not
// even that it is behind.
func (r *runner) canReadAhead() bool {
	if r.noReadAhead {
		return false
	}
	if ring, ok := r.h.history.(*Ring); ok {
		return ring.Horizon() >= 0
	}
	return true
}

// catchUp reads the next batch from the history: events after pos up to
// the newest transaction upto, or to the end of the history when upto is
// unbounded. When it gets there it switches the plugin back to its queue.
func (r *runner) catchUp(pos, upto int64) ([]notifier.Event, int64, bool) {
	if pos >= upto {
		// Already past every transaction offered (an ack file written by a
		// run that saw more than the history has yet): nothing to read.
		pos = upto
	}
	evs, end, full, complete, err := r.fromHistory(pos, upto, r.cfg.BatchSize)
	if err != nil {
		r.log.Error("cannot read the change history; retrying", "after", pos, "err", err)
		r.update(func(st *Status) { st.LastError = err.Error() })
		time.Sleep(r.h.opts.MinBackoff)
		return nil, 0, false
	}
	if !complete {
		g, ok := r.gap(pos, upto)
		if !ok {
			// Reading ahead, the history tells neither where the gap
			// ends nor the newest zxid: wait for the first transaction.
			r.noReadAhead = true
			return nil, 0, false
		}
		return []notifier.Event{g}, g.GapEnd, true
	}
	if full {
		return evs, end, true
	}
	// Reached upto, or the end of the history at end. Transactions after
	// newest will be queued; those in (end, newest] were offered while
	// lagging and come from the history; those up to newest that are
	// offered later (their Sink call lagging behind the history) were read
	// already and are skipped.
	r.mu.Lock()
	newest := max(r.sinkZxid, end)
	r.lagging = false
	r.st.Lagging = false
	r.floor = newest
	r.mu.Unlock()
	r.log.Info("notifier caught up from the change history; back on its queue", "zxid", newest)
	for after := end; after < newest; {
		more, end, full, complete, err := r.fromHistory(after, newest, math.MaxInt)
		if err != nil || !complete {
			// The last stretch is gone already (or unreadable): the
			// queue takes over after newest, so the gap must reach it.
			evs = append(evs, r.gapEvent(after, newest))
			break
		}
		evs = append(evs, more...)
		if !full {
			break
		}
		after = end
	}
	return evs, newest, true
}

// gap builds the gap event for events after pos that the history no
// longer has, ending at the history's horizon when it is known. ok is false
// when upto is unbounded and the horizon unknown.
func (r *runner) gap(pos, upto int64) (ev notifier.Event, ok bool) {
	end := upto
	if hz, ok := r.h.history.(Horizoner); ok {
		if h := hz.Horizon(); h > pos && h < upto {
			end = h
		}
	}
	if end == unbounded {
		return notifier.Event{}, false
	}
	return r.gapEvent(pos, end), true
}

// gapEvent builds the gap event for the zxids after pos up to end.
func (r *runner) gapEvent(pos, end int64) notifier.Event {
	r.log.Warn("notifier missed events: the change history no longer reaches back; sending a gap event",
		"gap_start", pos+1, "gap_end", end)
	return notifier.Event{Type: notifier.EventGap, Zxid: end, GapStart: pos + 1, GapEnd: end}
}

// fromHistory collects the plugin's events with after < zxid <= upto, at
// most limit of them (whole transactions). end is the zxid up to which the
// history was read (when upto is unbounded and the read was not stopped,
// the last zxid the history holds, or after if none); full reports that
// limit stopped the read.
//
// A read also stops (as if full) after scanLimit events, so a plugin whose
// filter matches little never holds the history's lock for a long scan
// that would delay the commit path's Append.
func (r *runner) fromHistory(after, upto int64, limit int) (evs []notifier.Event, end int64, full, complete bool, err error) {
	end = after
	scanned := 0
	complete, err = r.h.history.Since(after, func(ev znode.Event) bool {
		if ev.Zxid > upto {
			return false
		}
		if (len(evs) >= limit || scanned >= scanLimit) && ev.Zxid != end {
			full = true
			return false
		}
		scanned++
		end = ev.Zxid
		if r.f.match(&ev) {
			evs = append(evs, r.toEvent(r.trim(ev)))
		}
		return true
	})
	if !full && upto != unbounded {
		end = upto
	}
	return evs, end, full, complete, err
}

func (r *runner) toEvent(ev znode.Event) notifier.Event {
	out := notifier.Event{
		Type:    notifier.EventType(ev.Type),
		Path:    ev.Path,
		Zxid:    ev.Zxid,
		Time:    time.UnixMilli(ev.Time),
		Version: ev.Version,
	}
	if r.cfg.IncludeData && (ev.Type == znode.EventNodeCreated || ev.Type == znode.EventNodeDataChanged) {
		out.Data, out.HasData = ev.Data, true
	}
	return out
}

func (r *runner) notify(ctx context.Context, batch []notifier.Event) error {
	cctx, cancel := context.WithTimeout(ctx, r.h.opts.NotifyTimeout)
	defer cancel()
	err := r.nc.Notify(cctx, batch)
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(cctx.Err(), context.DeadlineExceeded)) {
		return fmt.Errorf("%w: Notify of %d events took longer than %v", ErrTimeout, len(batch), r.h.opts.NotifyTimeout)
	}
	return err
}

func (r *runner) checkHealth(ctx context.Context) {
	if r.nc == nil || time.Since(r.lastHC) < r.h.opts.HealthInterval {
		return
	}
	r.lastHC = time.Now()
	cctx, cancel := context.WithTimeout(ctx, r.h.opts.StartTimeout)
	defer cancel()
	h := "ok"
	switch err := r.nc.Health(cctx); {
	case errors.Is(err, notifier.ErrUnimplemented):
		h = "unsupported"
	case err != nil:
		h = err.Error()
		r.log.Warn("notifier reports itself unhealthy", "err", err)
	}
	r.update(func(st *Status) { st.Health = h })
}

// verifyChecksum hashes the executable and compares it with the pin.
func (r *runner) verifyChecksum(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStart, err)
	}
	defer f.Close()
	hsh := sha256.New()
	if _, err := io.Copy(hsh, f); err != nil {
		return fmt.Errorf("%w: %v", ErrStart, err)
	}
	got := hex.EncodeToString(hsh.Sum(nil))
	if !strings.EqualFold(got, r.cfg.SHA256) {
		return fmt.Errorf("%w: %s has sha256 %s, configuration pins %s", ErrChecksum, path, got, strings.ToLower(r.cfg.SHA256))
	}
	return nil
}

// startProcess launches the plugin, handshakes and configures it.
func (r *runner) startProcess(ctx context.Context) error {
	r.update(func(st *Status) { st.State = StateStarting })
	path, err := exec.LookPath(r.cfg.Command)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStart, err)
	}
	var secure *plugin.SecureConfig
	if r.cfg.SHA256 != "" {
		if err := r.verifyChecksum(path); err != nil {
			return err
		}
		sum, _ := hex.DecodeString(r.cfg.SHA256)
		secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  notifier.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{notifier.ProtocolVersion: {notifier.PluginName: &notifier.Plugin{}}},
		Cmd:              exec.Command(path, r.cfg.Args...),
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     r.h.opts.StartTimeout,
		// Stderr gets what the process writes before the plugin server
		// takes over its stderr, SyncStderr what it writes afterwards.
		Stderr:     &lineLogger{log: r.log, level: slog.LevelInfo, msg: "plugin stderr"},
		SyncStderr: &lineLogger{log: r.log, level: slog.LevelInfo, msg: "plugin stderr"},
		SyncStdout: &lineLogger{log: r.log, level: slog.LevelInfo, msg: "plugin stdout"},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:   "go-plugin",
			Output: &lineLogger{log: r.log, level: slog.LevelDebug, msg: "go-plugin"},
			Level:  hclog.Warn,
		}),
	})
	proto, err := client.Client()
	if err != nil {
		client.Kill()
		return classifyStart(path, err)
	}
	raw, err := proto.Dispense(notifier.PluginName)
	if err != nil {
		client.Kill()
		return fmt.Errorf("%w: %s: %v", ErrHandshake, path, err)
	}
	nc, ok := raw.(*notifier.Client)
	if !ok {
		client.Kill()
		return fmt.Errorf("%w: %s: unexpected plugin type %T", ErrHandshake, path, raw)
	}
	cctx, cancel := context.WithTimeout(ctx, r.h.opts.StartTimeout)
	err = nc.Configure(cctx, notifier.Config{
		Name:        r.cfg.Name,
		Paths:       r.cfg.Paths,
		Events:      r.cfg.Events,
		IncludeData: r.cfg.IncludeData,
	})
	cancel()
	var pe *notifier.PluginError
	switch {
	case err == nil, errors.Is(err, notifier.ErrUnimplemented):
	case errors.As(err, &pe):
		client.Kill()
		return fmt.Errorf("%w: %s", ErrConfigure, pe.Msg)
	default:
		client.Kill()
		return fmt.Errorf("%w: configure: %v", ErrStart, err)
	}
	pid := 0
	if rc := client.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	r.client, r.nc = client, nc
	r.starts++
	r.lastHC = time.Time{}
	// Logged before the state is published, as in fail: whoever sees
	// StateRunning finds the start in the log.
	r.log.Info("notifier started", "pid", pid, "command", path, "start", r.starts)
	if r.reviving {
		r.reviving = false
		r.mu.Lock()
		pos, n := r.pos, r.st.Failures
		r.mu.Unlock()
		r.log.Info("failed notifier is running again; delivery resumes after its last acknowledged zxid",
			"last_acked_zxid", pos, "times_failed", n)
	}
	r.update(func(st *Status) {
		st.State, st.PID = StateRunning, pid
		if r.starts > 1 {
			st.Restarts++
		}
	})
	return nil
}

// classifyStart turns go-plugin's start errors, which are plain strings,
// into the package's sentinels.
func classifyStart(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Failed to read any lines from plugin's stdout"):
		return fmt.Errorf("%w: %s exited before its handshake", ErrStart, path)
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		return fmt.Errorf("%w: %s printed something other than a plugin handshake (is it a zkx notifier plugin?): %s", ErrNotPlugin, path, firstLine(msg))
	case strings.Contains(msg, "incompatible API version"), strings.Contains(msg, "incompatible core API version"):
		return fmt.Errorf("%w: %s speaks another protocol version (zkx speaks notifier protocol %d): %s", ErrHandshake, path, notifier.ProtocolVersion, firstLine(msg))
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("%w: %s changed while starting", ErrChecksum, path)
	}
	return fmt.Errorf("%w: %s: %s", ErrStart, path, firstLine(msg))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func (r *runner) stopProcess() {
	if r.client == nil {
		return
	}
	r.client.Kill()
	r.client, r.nc = nil, nil
	r.update(func(st *Status) { st.PID = 0 })
}

// lineLogger turns written lines into log records.
type lineLogger struct {
	log   *slog.Logger
	level slog.Level
	msg   string
	mu    sync.Mutex
	buf   []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(l.buf[:i]), "\r")
		l.buf = l.buf[i+1:]
		if line != "" {
			l.log.Log(context.Background(), l.level, l.msg, "line", line)
		}
	}
	if len(l.buf) > 64<<10 {
		l.log.Log(context.Background(), l.level, l.msg, "line", string(l.buf))
		l.buf = l.buf[:0]
	}
	return len(p), nil
}
