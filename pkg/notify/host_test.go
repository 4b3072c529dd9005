package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// delivery is the deadline for events to reach a plugin: generous, because
// the machine running the tests may be loaded.
const delivery = 30 * time.Second

func TestDeliversConfiguredSubtreesAndTypesInOrder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := startHost(t, Options{Plugins: []PluginConfig{{
		Name:        "audit",
		Command:     recorderBin(t),
		Args:        []string{"--out", out},
		Paths:       []string{"/app", "/cfg/db"},
		Events:      []string{"created", "data", "children"},
		IncludeData: true,
	}}})

	withData := func(e znode.Event, d string) znode.Event { e.Data = []byte(d); return e }
	h.Sink([]znode.Event{withData(ev(1, znode.EventNodeCreated, "/app"), "a"), ev(1, znode.EventNodeChildrenChanged, "/")})
	h.Sink([]znode.Event{withData(ev(2, znode.EventNodeCreated, "/apple"), "no")})
	h.Sink([]znode.Event{withData(ev(3, znode.EventNodeCreated, "/app/x"), "x"), ev(3, znode.EventNodeChildrenChanged, "/app")})
	h.Sink([]znode.Event{withData(ev(4, znode.EventNodeDataChanged, "/app/x"), "x2")})
	h.Sink([]znode.Event{ev(5, znode.EventNodeDeleted, "/app/x"), ev(5, znode.EventNodeChildrenChanged, "/app")})
	h.Sink([]znode.Event{withData(ev(6, znode.EventNodeDataChanged, "/cfg/db"), "")})
	h.Sink([]znode.Event{withData(ev(7, znode.EventNodeDataChanged, "/cfg"), "no")})
	h.Sink([]znode.Event{withData(ev(8, znode.EventNodeCreated, "/cfg/dbx"), "no")})

	want := []recorded{
		{Type: "created", Path: "/app", Zxid: 1, Data: "a", HasData: true},
		{Type: "created", Path: "/app/x", Zxid: 3, Data: "x", HasData: true},
		{Type: "children", Path: "/app", Zxid: 3},
		{Type: "data", Path: "/app/x", Zxid: 4, Data: "x2", HasData: true},
		{Type: "children", Path: "/app", Zxid: 5},
		{Type: "data", Path: "/cfg/db", Zxid: 6, HasData: true},
	}
	var got []recorded
	waitFor(t, delivery, "six events", func() bool { got = readRecorded(t, out); return len(got) >= len(want) })
	// Give stray events (there must be none) a moment by waiting for the
	// position to pass the last transaction.
	waitFor(t, delivery, "acknowledged position 8", func() bool { return h.status(t, "audit").LastAcked >= 8 })
	got = readRecorded(t, out)
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		g.Version, g.PID, g.GapStart, g.GapEnd = 0, 0, 0, 0
		if g != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, g, want[i])
		}
	}
	st := h.status(t, "audit")
	if st.State != StateRunning || st.Delivered != 6 || st.Gaps != 0 || st.PID == 0 {
		t.Errorf("status = %+v", st)
	}
	// The plugin's stderr travels on its own stream: wait for it.
	waitFor(t, delivery, "the plugin's stderr in the host log", func() bool {
		return strings.Contains(h.logs.String(), "recorder configured as audit")
	})
	waitAckFile(t, filepath.Join(h.dir, "audit.ack"), 6)
}

func TestKilledPluginRestartsWithoutLosingEvents(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := startHost(t, Options{Plugins: []PluginConfig{{
		Name: "p", Command: recorderBin(t), Args: []string{"--out", out}, BatchSize: 50,
	}}})
	waitFor(t, delivery, "plugin running", func() bool { return h.status(t, "p").State == StateRunning })

	const total = 3000
	killed := 0
	killedPIDs := map[int]bool{}
	for i := range total {
		z := int64(i + 1)
		h.Sink([]znode.Event{ev(z, znode.EventNodeCreated, "/app/n")})
		if i == 1000 || i == 2000 {
			// Kill mid-stream: once the current process has delivered
			// some events, with more still queued.
			var pid int
			waitFor(t, delivery, "a new process to deliver", func() bool {
				pid = h.status(t, "p").PID
				if pid == 0 || killedPIDs[pid] {
					return false // not restarted yet
				}
				for _, r := range readRecorded(t, out) {
					if r.PID == pid {
						return true
					}
				}
				return false
			})
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killedPIDs[pid] = true
			killed++
		}
	}
	waitFor(t, delivery, "all events", func() bool { return h.status(t, "p").LastAcked >= total })
	got := readRecorded(t, out)
	dups := checkSequence(t, got, 1, total)
	st := h.status(t, "p")
	if st.Restarts < killed {
		t.Errorf("restarts = %d, want >= %d", st.Restarts, killed)
	}
	if uint64(dups) > st.Redelivered {
		t.Errorf("%d duplicates seen, but only %d redeliveries counted", dups, st.Redelivered)
	}
	if st.Delivered < total || st.Gaps != 0 {
		t.Errorf("status = %+v", st)
	}
	pids := map[int]bool{}
	for _, r := range got {
		pids[r.PID] = true
	}
	if len(pids) < killed+1 {
		t.Errorf("events came from %d processes, want %d", len(pids), killed+1)
	}
	t.Logf("%d events, %d kills, %d duplicates, %d redelivered", total, killed, dups, st.Redelivered)
}

func TestStuckPluginQueueBoundAndGap(t *testing.T) {
	dir := t.TempDir()
	out, stuck := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "stuck")
	os.WriteFile(stuck, nil, 0o644)
	h := startHost(t, Options{
		Plugins: []PluginConfig{{
			Name: "p", Command: recorderBin(t), Args: []string{"--out", out, "--stuck", stuck},
			QueueEvents: 100, BatchSize: 10,
		}},
		Ring:          RingOptions{MaxEvents: 1000},
		NotifyTimeout: 2 * time.Second,
		MaxFailures:   100,
	})
	waitFor(t, delivery, "plugin running", func() bool { return h.status(t, "p").State == StateRunning })

	const total = 5000
	sinkMany(h.Host, 1, 1)
	waitFor(t, delivery, "the plugin to be stuck", func() bool {
		_, err := os.Stat(stuck + ".entered")
		return err == nil
	})
	start := time.Now()
	sinkMany(h.Host, 2, total-1)
	elapsed := time.Since(start)
	st := h.status(t, "p")
	if st.QueueDepth > st.QueueCapacity || st.QueueCapacity != 100 {
		t.Errorf("queue depth %d exceeds capacity %d", st.QueueDepth, st.QueueCapacity)
	}
	if st.Overflows == 0 || !st.Lagging {
		t.Errorf("overflow not recorded: %+v", st)
	}
	t.Logf("%d transactions sunk in %v with the plugin stuck", total, elapsed)

	os.Remove(stuck)
	waitFor(t, delivery, "delivery to catch up", func() bool { return h.status(t, "p").LastAcked >= total })
	got := readRecorded(t, out)
	// Expected: events 1..k from the queue (and the in-flight batch), one
	// gap, then events from the gap's end+1 to total, with duplicates only
	// from redelivery of the batch that was stuck.
	var gaps []recorded
	next := int64(1)
	for _, r := range got {
		if r.Type == "gap" {
			if r.GapStart > next {
				t.Fatalf("gap starts at %d, but %d was never delivered", r.GapStart, next)
			}
			gaps = append(gaps, r)
			next = r.GapEnd + 1
			continue
		}
		switch {
		case r.Zxid == next:
			next++
		case r.Zxid > next:
			t.Fatalf("event %d arrived while %d was expected: a silent hole", r.Zxid, next)
		}
	}
	if next != total+1 {
		t.Fatalf("delivered up to %d, want %d", next-1, total)
	}
	if len(gaps) != 1 {
		t.Fatalf("got %d gap events, want 1: %+v", len(gaps), gaps)
	}
	if g := gaps[0]; g.GapEnd < total-1000 || g.GapStart > 1+100+10 {
		t.Errorf("gap %d..%d: want it to start within the queue's reach and end at the ring's horizon", g.GapStart, g.GapEnd)
	}
	st = h.status(t, "p")
	if st.Gaps != 1 || st.Restarts == 0 || st.Lagging {
		t.Errorf("status after recovery = %+v", st)
	}
	if !strings.Contains(h.logs.String(), "did not answer in time") {
		t.Errorf("timeout not logged")
	}
}

func TestResume(t *testing.T) {
	tests := []struct {
		name string
		// durable is a history holding every transaction, as a durable
		// change log would after a server restart; nil uses the host's
		// own ring, which starts empty.
		durable bool
		wantGap bool
	}{
		{"durable history: no gap", true, false},
		{"in-memory history after restart: gap", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "events.jsonl")
			cfg := PluginConfig{Name: "p", Command: recorderBin(t), Args: []string{"--out", out}}
			log := NewRing(RingOptions{})

			// First run: 1..10 delivered.
			h1 := startHost(t, Options{Plugins: []PluginConfig{cfg}, DataDir: dir, History: log})
			for z := int64(1); z <= 10; z++ {
				e := []znode.Event{ev(z, znode.EventNodeCreated, "/app/n")}
				log.Append(e)
				h1.Sink(e)
			}
			waitFor(t, delivery, "first run", func() bool { return h1.status(t, "p").LastAcked >= 10 })
			closeHost(t, h1.Host)

			// While down: 11..20 committed, seen by nobody.
			for z := int64(11); z <= 20; z++ {
				log.Append([]znode.Event{ev(z, znode.EventNodeCreated, "/app/n")})
			}

			opts := Options{Plugins: []PluginConfig{cfg}, DataDir: dir}
			if tt.durable {
				opts.History = log
			}
			h2 := startHost(t, opts)
			// A durable history may already have been read to its end.
			if st := h2.status(t, "p"); st.LastAcked < 10 || (!tt.durable && (st.LastAcked != 10 || !st.Lagging)) {
				t.Fatalf("resumed status = %+v, want position 10 and lagging", st)
			}
			e := []znode.Event{ev(21, znode.EventNodeCreated, "/app/n")}
			if tt.durable {
				log.Append(e)
			}
			h2.Sink(e)
			waitFor(t, delivery, "second run", func() bool { return h2.status(t, "p").LastAcked >= 21 })
			got := readRecorded(t, out)
			if tt.wantGap {
				var zs []int64
				var gap *recorded
				for i, r := range got {
					if r.Type == "gap" {
						gap = &got[i]
						continue
					}
					zs = append(zs, r.Zxid)
				}
				if gap == nil || gap.GapStart != 11 || gap.GapEnd != 20 {
					t.Fatalf("gap = %+v, want 11..20", gap)
				}
				if zs[len(zs)-1] != 21 || len(zs) != 11 {
					t.Fatalf("zxids %v, want 1..10 then 21", zs)
				}
				return
			}
			if dups := checkSequence(t, got, 1, 21); dups != 0 {
				t.Errorf("%d duplicates", dups)
			}
		})
	}
}

func closeHost(t *testing.T, h *Host) {
	t.Helper()
	ctx, cancel := contextWithTimeout(30 * time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStartFailuresAreReportedAndSinkKeepsWorking(t *testing.T) {
	rec := recorderBin(t)
	tests := []struct {
		name    string
		cfg     PluginConfig
		want    error
		wantLog string
	}{
		{"not a plugin", PluginConfig{Command: rec, Args: []string{"--fake-handshake", "hello, I am not a plugin"}},
			ErrNotPlugin, "printed something other than a plugin handshake"},
		{"wrong protocol version", PluginConfig{Command: rec, Args: []string{"--fake-handshake", "1|99|tcp|127.0.0.1:1|grpc"}},
			ErrHandshake, "speaks another protocol version"},
		{"wrong checksum", PluginConfig{Command: rec, SHA256: strings.Repeat("00", 32)},
			ErrChecksum, "configuration pins 0000"},
		{"crashes at start", PluginConfig{Command: rec, Args: []string{"--fail-start"}},
			ErrCrashLoop, "failing at start as asked"},
		{"rejects its configuration", PluginConfig{Command: rec, Args: []string{"--reject-config"}},
			ErrConfigure, `configuration of \"bad\" rejected`},
		{"missing binary", PluginConfig{Command: filepath.Join(t.TempDir(), "nope")},
			ErrCrashLoop, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name = "bad"
			// Retrying is off here, so the failed state is final; the
			// recovery tests cover retrying.
			h := startHost(t, Options{Plugins: []PluginConfig{tt.cfg}, MaxFailures: 3, StartTimeout: 5 * time.Second,
				RetryFailedAfter: -1})
			waitFor(t, delivery, "failed state", func() bool { return h.status(t, "bad").State == StateFailed })
			st := h.status(t, "bad")
			if !errors.Is(st.Err, tt.want) {
				t.Errorf("error %v, want %v", st.Err, tt.want)
			}
			if st.Failures != 1 || st.FailedAt.IsZero() || !st.RetryAt.IsZero() {
				t.Errorf("failure record = %d failures, failed at %v, retry at %v; want 1, a time, no retry",
					st.Failures, st.FailedAt, st.RetryAt)
			}
			logs := h.logs.String()
			if !strings.Contains(logs, "will not be restarted") || !strings.Contains(logs, tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs)
			}
			// The sink still accepts events without queueing them.
			done := make(chan struct{})
			go func() { sinkMany(h.Host, 1, 1000); close(done) }()
			select {
			case <-done:
			case <-time.After(delivery):
				t.Fatal("Sink blocked on a failed plugin")
			}
			if st := h.status(t, "bad"); st.QueueDepth != 0 {
				t.Errorf("failed plugin queued %d events", st.QueueDepth)
			}
		})
	}
}

func TestChecksumPinAccepted(t *testing.T) {
	rec := recorderBin(t)
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := startHost(t, Options{Plugins: []PluginConfig{{
		Name: "pinned", Command: rec, Args: []string{"--out", out}, SHA256: hex.EncodeToString(sum[:]),
	}}})
	h.Sink([]znode.Event{ev(1, znode.EventNodeCreated, "/a")})
	waitFor(t, delivery, "delivery", func() bool { return len(readRecorded(t, out)) == 1 })
}

func TestPluginErrorIsRetried(t *testing.T) {
	dir := t.TempDir()
	out, errFile := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "err")
	os.WriteFile(errFile, nil, 0o644)
	h := startHost(t, Options{Plugins: []PluginConfig{{
		Name: "p", Command: recorderBin(t), Args: []string{"--out", out, "--err", errFile},
	}}})
	sinkMany(h.Host, 1, 5)
	waitFor(t, delivery, "an error reported", func() bool { return h.status(t, "p").LastError == "downstream unavailable" })
	os.Remove(errFile)
	waitFor(t, delivery, "delivery", func() bool { return h.status(t, "p").LastAcked >= 5 })
	checkSequence(t, readRecorded(t, out), 1, 5)
	if st := h.status(t, "p"); st.Restarts != 0 || st.Redelivered == 0 {
		t.Errorf("a plugin error must be retried without restart and counted: %+v", st)
	}
}

// TestLaggingPluginCatchesUpFromHistory: a plugin that fails for a while
// overflows its small queue; once it recovers it is fed from the history —
// while writes go on — and then back from its queue, with every event in
// order and no gap, because the history still reaches back.
func TestLaggingPluginCatchesUpFromHistory(t *testing.T) {
	dir := t.TempDir()
	out, errFile := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "err")
	os.WriteFile(errFile, nil, 0o644)
	h := startHost(t, Options{Plugins: []PluginConfig{{
		Name: "p", Command: recorderBin(t), Args: []string{"--out", out, "--err", errFile},
		Paths: []string{"/rare"}, QueueEvents: 10, BatchSize: 7,
	}}})
	// One matching transaction in 100: catch-up scans far more history
	// than it delivers.
	sinkRare := func(first, last int64) {
		for z := first; z <= last; z++ {
			p := fmt.Sprintf("/other/n%d", z)
			if z%100 == 0 {
				p = fmt.Sprintf("/rare/n%d", z)
			}
			h.Sink([]znode.Event{ev(z, znode.EventNodeCreated, p)})
		}
	}
	sinkRare(1, 20000)
	waitFor(t, delivery, "overflow", func() bool { return h.status(t, "p").Overflows > 0 })
	os.Remove(errFile)
	sinkRare(20001, 40000) // while catching up
	waitFor(t, delivery, "delivery to catch up", func() bool { return h.status(t, "p").LastAcked >= 40000 })
	sinkRare(40001, 41000) // back on the queue
	waitFor(t, delivery, "delivery of the tail", func() bool { return h.status(t, "p").LastAcked >= 41000 })

	next := int64(100)
	for _, r := range readRecorded(t, out) {
		switch {
		case r.Type == "gap":
			t.Fatalf("unexpected gap %d..%d", r.GapStart, r.GapEnd)
		case r.Zxid == next:
			next += 100
		case r.Zxid > next:
			t.Fatalf("event %d arrived while %d was expected", r.Zxid, next)
		}
	}
	if next != 41100 {
		t.Fatalf("delivered up to %d, want 41000", next-100)
	}
	if st := h.status(t, "p"); st.Lagging || st.Gaps != 0 || st.Restarts != 0 {
		t.Errorf("status = %+v", st)
	}
}

// lockedLog is a ChangeLog over a slice with a horizon that tests may
// append to while the host reads it, as the server's commits would.
type lockedLog struct {
	mu      sync.Mutex
	events  []znode.Event
	horizon int64
}

func (l *lockedLog) Events(_ context.Context, after int64, fn func(znode.Event) bool) (int64, error) {
	l.mu.Lock()
	evs, hz := l.events, l.horizon
	l.mu.Unlock()
	for _, e := range evs {
		if e.Zxid > after && !fn(e) {
			break
		}
	}
	return hz, nil
}

func (l *lockedLog) append(evs ...znode.Event) {
	l.mu.Lock()
	l.events = append(l.events, evs...)
	l.mu.Unlock()
}

// TestResumeAtStartWithoutNewWrites: after a server restart, a plugin whose
// ack file is behind the durable change log receives what it missed at
// once, with no client writing — also when its first attempt hangs and the
// process is restarted — then takes live events from its queue without
// duplicates, including a transaction whose Sink call comes after the
// plugin already read it from the log.
func TestResumeAtStartWithoutNewWrites(t *testing.T) {
	tests := []struct {
		name    string
		ack     int64 // the plugin's saved position
		horizon int64 // the log's horizon; it holds 11..30
		// wantGap is the gap event expected first, zero for none.
		wantGap [2]int64
		// wantFirst is the first zxid expected after the gap.
		wantFirst int64
		// hang makes the plugin's first Notify hang until it is killed
		// and restarted.
		hang bool
	}{
		{name: "log reaches back: every missed event, no gap", ack: 15, horizon: 10, wantFirst: 16},
		{name: "log starts after the ack: gap up to the horizon, then the rest", ack: 5, horizon: 10, wantGap: [2]int64{6, 10}, wantFirst: 11},
		{name: "up to date: nothing to read, live events still flow", ack: 30, horizon: 10, wantFirst: 31},
		{name: "plugin restarted after hanging: catches up without a write", ack: 15, horizon: 10, wantFirst: 16, hang: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "events.jsonl")
			log := &lockedLog{horizon: tt.horizon}
			for z := int64(11); z <= 30; z++ {
				log.append(ev(z, znode.EventNodeCreated, "/app/n"))
			}
			if err := writeAck(filepath.Join(dir, "p.ack"), tt.ack); err != nil {
				t.Fatal(err)
			}
			stuck := filepath.Join(dir, "stuck")
			if tt.hang {
				if err := os.WriteFile(stuck, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg := PluginConfig{Name: "p", Command: recorderBin(t), Args: []string{"--out", out, "--stuck", stuck}, BatchSize: 4}
			opts := Options{Plugins: []PluginConfig{cfg}, DataDir: dir, History: FromChangeLog(log)}
			if tt.hang {
				// Short, to end the hung call soon, but every Notify
				// after it must answer in time: one that is only slow
				// would be killed and sent again, a restart or a
				// duplicate the test does not allow. The other cases
				// keep the default.
				opts.NotifyTimeout = 5 * time.Second
			}
			h := startHost(t, opts)
			if tt.hang {
				waitFor(t, delivery, "the plugin to hang", func() bool {
					_, err := os.Stat(stuck + ".entered")
					return err == nil
				})
				if err := os.Remove(stuck); err != nil {
					t.Fatal(err)
				}
			}

			// No Sink call: the host must catch up on its own.
			waitFor(t, delivery, "catch-up from the log without a write", func() bool {
				st := h.status(t, "p")
				return st.LastAcked >= 30 && !st.Lagging
			})
			waitFor(t, delivery, "ack file at 30", func() bool {
				z, ok, err := readAck(filepath.Join(dir, "p.ack"))
				return err == nil && ok && z == 30
			})

			// The server's commit path now delivers 30 late (already read
			// from the log), then 31..32 live.
			h.Sink([]znode.Event{ev(30, znode.EventNodeCreated, "/app/n")})
			for z := int64(31); z <= 32; z++ {
				e := ev(z, znode.EventNodeCreated, "/app/n")
				log.append(e)
				h.Sink([]znode.Event{e})
			}
			waitFor(t, delivery, "live events after catch-up", func() bool { return h.status(t, "p").LastAcked >= 32 })

			got := readRecorded(t, out)
			if tt.wantGap != [2]int64{} {
				if len(got) == 0 || got[0].Type != "gap" || got[0].GapStart != tt.wantGap[0] || got[0].GapEnd != tt.wantGap[1] {
					t.Fatalf("first event = %+v, want gap %d..%d", got[:min(1, len(got))], tt.wantGap[0], tt.wantGap[1])
				}
				got = got[1:]
			}
			if dups := checkSequence(t, got, tt.wantFirst, 32); dups != 0 {
				t.Errorf("%d duplicates, want none", dups)
			}
			st := h.status(t, "p")
			if st.Gaps != uint64(min(1, tt.wantGap[0])) || (st.Restarts > 0) != tt.hang || (st.Redelivered > 0) != tt.hang {
				t.Errorf("status = %+v; want %d gaps, restarts and redeliveries only if the plugin hung", st, min(1, tt.wantGap[0]))
			}
		})
	}
}

// TestResumeWithoutHorizonWaitsForAWrite: a history that cannot tell its
// horizon gives no end for the gap of a plugin it no longer reaches back
// to, so at Start that plugin waits, as before, for the first transaction,
// and then gets a gap ending there instead of an unbounded one.
func TestResumeWithoutHorizonWaitsForAWrite(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	log := &lockedLog{horizon: 10}
	for z := int64(11); z <= 30; z++ {
		log.append(ev(z, znode.EventNodeCreated, "/app/n"))
	}
	if err := writeAck(filepath.Join(dir, "p.ack"), 5); err != nil {
		t.Fatal(err)
	}
	// Embedding the interface hides FromChangeLog's Horizon method.
	hist := struct{ History }{FromChangeLog(log)}
	cfg := PluginConfig{Name: "p", Command: recorderBin(t), Args: []string{"--out", out}}
	h := startHost(t, Options{Plugins: []PluginConfig{cfg}, DataDir: dir, History: hist})

	waitFor(t, delivery, "the plugin to start", func() bool { return h.status(t, "p").State == StateRunning })
	time.Sleep(300 * time.Millisecond)
	if st := h.status(t, "p"); st.LastAcked != 5 || !st.Lagging || st.Gaps != 0 {
		t.Fatalf("status before any write = %+v, want position 5, lagging, no gap", st)
	}
	sink := func(z int64) {
		e := ev(z, znode.EventNodeCreated, "/app/n")
		log.append(e)
		h.Sink([]znode.Event{e})
	}
	sink(31)
	waitFor(t, delivery, "the gap after the first write", func() bool { return h.status(t, "p").LastAcked >= 31 })
	sink(32)
	waitFor(t, delivery, "the next write", func() bool { return h.status(t, "p").LastAcked >= 32 })
	got := readRecorded(t, out)
	if len(got) != 2 || got[0].Type != "gap" || got[0].GapStart != 6 || got[0].GapEnd != 31 ||
		got[1].Type == "gap" || got[1].Zxid != 32 {
		t.Fatalf("events = %+v, want a gap 6..31 (ending at the first write), then zxid 32", got)
	}
}
