package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// retryAfter is the RetryFailedAfter of the recovery tests: long enough
// for a test to write events while the plugin is failed, short enough to
// keep the tests quick.
const retryAfter = 2 * time.Second

// waitFailed waits for a snapshot in StateFailed and returns it, so that
// every field checked belongs to the failed state.
func waitFailed(t *testing.T, h *testHost, name string) Status {
	t.Helper()
	var st Status
	waitFor(t, delivery, name+" to be failed", func() bool {
		st = h.status(t, name)
		return st.State == StateFailed
	})
	return st
}

// checkFailedStatus asserts what an operator reads from a failed plugin.
func checkFailedStatus(t *testing.T, st Status, want error) {
	t.Helper()
	if !errors.Is(st.Err, want) {
		t.Errorf("Err = %v, want %v", st.Err, want)
	}
	if st.Failures < 1 || st.FailedAt.IsZero() || !st.RetryAt.After(st.FailedAt) {
		t.Errorf("failure record: %d failures, failed at %v, retry at %v; want >= 1, a time, a later retry",
			st.Failures, st.FailedAt, st.RetryAt)
	}
	if st.PID != 0 || st.QueueDepth != 0 {
		t.Errorf("failed plugin has pid %d and %d queued events, want none", st.PID, st.QueueDepth)
	}
}

// checkRecovered asserts the status of a plugin that failed and runs again.
func checkRecovered(t *testing.T, st Status) {
	t.Helper()
	if st.State != StateRunning || st.Err != nil || !st.RetryAt.IsZero() || st.Lagging {
		t.Errorf("recovered status: state %s, err %v, retry at %v, lagging %v; want running, no error, no retry, not lagging",
			st.State, st.Err, st.RetryAt, st.Lagging)
	}
	if st.Failures < 1 || st.FailedAt.IsZero() || st.PID == 0 {
		t.Errorf("recovered status lost its failure record or pid: %+v", st)
	}
}

// checkGapped verifies that got, with at-least-once duplicates removed,
// holds every created event first..last in order except the ranges named
// by gap events, with no silent hole, and returns the gaps.
func checkGapped(t *testing.T, got []recorded, first, last int64) []recorded {
	t.Helper()
	var gaps []recorded
	next := first
	for _, r := range got {
		if r.Type == "gap" {
			if r.GapStart > next {
				t.Fatalf("gap %d..%d starts after %d, which was never delivered", r.GapStart, r.GapEnd, next)
			}
			gaps = append(gaps, r)
			next = max(next, r.GapEnd+1)
			continue
		}
		switch {
		case r.Zxid == next:
			next++
		case r.Zxid > next:
			t.Fatalf("event %d arrived while %d was expected: a silent hole", r.Zxid, next)
		}
	}
	if next != last+1 {
		t.Fatalf("delivered up to %d, want %d", next-1, last)
	}
	return gaps
}

// TestCrashLoopedPluginRecovers: a plugin that crashes in every Notify
// ends in StateFailed; once it is fixed, it is started again after
// RetryFailedAfter without restarting the host and receives, in zxid order,
// the events written while it was failed — or a gap event for those the
// history no longer holds — then live events again.
func TestCrashLoopedPluginRecovers(t *testing.T) {
	tests := []struct {
		name string
		ring RingOptions
		// wantGapEnd is the end of the one gap expected, 0 for none: the
		// ring's horizon once it holds only the last 10 of 100 events.
		wantGapEnd int64
	}{
		{name: "history reaches back: every missed event", ring: RingOptions{}},
		{name: "history too short: a gap, then the rest", ring: RingOptions{MaxEvents: 10}, wantGapEnd: 90},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out, crash := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "crash")
			h := startHost(t, Options{
				Plugins: []PluginConfig{{
					Name: "p", Command: recorderBin(t), Args: []string{"--out", out, "--crash", crash},
				}},
				Ring:             tt.ring,
				MaxFailures:      3,
				RetryFailedAfter: retryAfter,
			})
			sinkMany(h.Host, 1, 5)
			waitFor(t, delivery, "the first events", func() bool { return h.status(t, "p").LastAcked >= 5 })

			// Break the plugin: every Notify now kills its process.
			if err := os.WriteFile(crash, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			sinkMany(h.Host, 6, 10)
			st := waitFailed(t, h, "p")
			checkFailedStatus(t, st, ErrCrashLoop)
			if st.LastAcked != 5 {
				t.Errorf("failed at position %d, want 5", st.LastAcked)
			}
			// Written while the plugin is failed: not queued.
			sinkMany(h.Host, 16, 85)
			if st := h.status(t, "p"); st.State == StateFailed && st.QueueDepth != 0 {
				t.Errorf("failed plugin queued %d events", st.QueueDepth)
			}

			// Fix it; the host picks it up on its own.
			if err := os.Remove(crash); err != nil {
				t.Fatal(err)
			}
			waitFor(t, delivery, "recovery and catch-up", func() bool {
				st := h.status(t, "p")
				return st.State == StateRunning && st.LastAcked >= 100 && !st.Lagging
			})
			sinkMany(h.Host, 101, 1)
			waitFor(t, delivery, "a live event after recovery", func() bool { return h.status(t, "p").LastAcked >= 101 })

			gaps := checkGapped(t, readRecorded(t, out), 1, 101)
			st = h.status(t, "p")
			checkRecovered(t, st)
			if st.Restarts < 3 || st.Redelivered == 0 {
				t.Errorf("restarts %d, redelivered %d: want the crash loop's restarts and redeliveries counted", st.Restarts, st.Redelivered)
			}
			if tt.wantGapEnd == 0 {
				if len(gaps) != 0 || st.Gaps != 0 {
					t.Errorf("gaps %+v (status %d), want none", gaps, st.Gaps)
				}
			} else {
				if len(gaps) != 1 || gaps[0].GapEnd != tt.wantGapEnd || gaps[0].GapStart > 16 {
					t.Fatalf("gaps %+v, want one ending at %d, starting where delivery stopped", gaps, tt.wantGapEnd)
				}
				if st.Gaps != 1 || st.LastGap != [2]int64{gaps[0].GapStart, gaps[0].GapEnd} {
					t.Errorf("status gaps %d, last %v; want 1, %d..%d", st.Gaps, st.LastGap, gaps[0].GapStart, gaps[0].GapEnd)
				}
			}
			logs := h.logs.String()
			for _, want := range []string{"keeps failing", "will be started again from scratch after retry_failed_after",
				"starting the failed notifier again", "failed notifier is running again"} {
				if !strings.Contains(logs, want) {
					t.Errorf("log lacks %q", want)
				}
			}
			waitAckFile(t, filepath.Join(h.dir, "p.ack"), 101)
		})
	}
}

// TestFailedStartRecoversWhenBinaryIsReplaced: a plugin that fails at
// start for a reason no backoff cures — a wrong binary at the command path
// — recovers once the operator puts the right binary there, without a
// restart of the host, and receives the events written in the meantime.
func TestFailedStartRecoversWhenBinaryIsReplaced(t *testing.T) {
	rec := recorderBin(t)
	good, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(good)
	tests := []struct {
		name string
		// bad is the first content at the command path.
		bad    []byte
		sha256 string
		want   error
	}{
		{
			name: "checksum mismatch until the pinned binary is installed",
			// Still a runnable recorder, but not the pinned one.
			bad:    append(append([]byte{}, good...), "tampered"...),
			sha256: hex.EncodeToString(sum[:]),
			want:   ErrChecksum,
		},
		{
			name: "not a plugin until a plugin is installed",
			bad:  []byte("#!/bin/sh\necho 'this is not a notifier plugin'\nexec sleep 10\n"),
			want: ErrNotPlugin,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out, bin := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "plugin")
			install := func(content []byte) {
				t.Helper()
				tmp := bin + ".new"
				if err := os.WriteFile(tmp, content, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, bin); err != nil {
					t.Fatal(err)
				}
			}
			install(tt.bad)
			h := startHost(t, Options{
				Plugins: []PluginConfig{{
					Name: "p", Command: bin, Args: []string{"--out", out}, SHA256: tt.sha256,
				}},
				MaxFailures:      3,
				StartTimeout:     5 * time.Second,
				RetryFailedAfter: retryAfter,
			})
			checkFailedStatus(t, waitFailed(t, h, "p"), tt.want)

			sinkMany(h.Host, 1, 20)
			install(good)
			waitFor(t, delivery, "recovery and delivery", func() bool {
				st := h.status(t, "p")
				return st.State == StateRunning && st.LastAcked >= 20 && !st.Lagging
			})
			if gaps := checkGapped(t, readRecorded(t, out), 1, 20); len(gaps) != 0 {
				t.Errorf("gaps %+v, want none", gaps)
			}
			st := h.status(t, "p")
			checkRecovered(t, st)
			if st.Delivered != 20 {
				t.Errorf("delivered %d, want 20", st.Delivered)
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	tests := []struct {
		name  string
		in    Options
		check func(o Options) bool
	}{
		{"zero values are the defaults", Options{}, func(o Options) bool {
			return o.StartTimeout == DefaultStartTimeout && o.NotifyTimeout == DefaultNotifyTimeout &&
				o.MinBackoff == DefaultMinBackoff && o.MaxBackoff == DefaultMaxBackoff &&
				o.MaxFailures == DefaultMaxFailures && o.HealthInterval == DefaultHealthInterval &&
				o.RetryFailedAfter == DefaultRetryFailedAfter && o.Logger != nil
		}},
		{"negative retry disables retrying and stays", Options{RetryFailedAfter: -1}, func(o Options) bool {
			return o.RetryFailedAfter < 0
		}},
		{"explicit retry kept", Options{RetryFailedAfter: time.Hour}, func(o Options) bool {
			return o.RetryFailedAfter == time.Hour
		}},
		{"max backoff below min is raised", Options{MinBackoff: time.Second, MaxBackoff: time.Millisecond}, func(o Options) bool {
			return o.MinBackoff == time.Second && o.MaxBackoff == time.Second
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.in
			o.setDefaults()
			if !tt.check(o) {
				t.Errorf("after defaults: %+v", o)
			}
		})
	}
}

// TestRetryFailedStartsAFailedPluginAtOnce: with retrying on a timer
// disabled, a plugin that failed stays failed until the operator asks
// (zkx's SIGHUP); then it starts at once and receives every event it
// missed. A request made while the plugin runs does not carry over to
// its next failure.
func TestRetryFailedStartsAFailedPluginAtOnce(t *testing.T) {
	dir := t.TempDir()
	out, crash := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "crash")
	h := startHost(t, Options{
		Plugins: []PluginConfig{
			{Name: "p", Command: recorderBin(t), Args: []string{"--out", out, "--crash", crash}},
			{Name: "ok", Command: recorderBin(t), Args: []string{"--out", filepath.Join(dir, "ok.jsonl")}},
		},
		MaxFailures:      2,
		RetryFailedAfter: -1,
	})
	sinkMany(h.Host, 1, 5)
	waitFor(t, delivery, "the first events", func() bool { return h.status(t, "p").LastAcked >= 5 })
	if names := h.RetryFailed(); len(names) != 0 {
		t.Errorf("RetryFailed with nothing failed asked %v", names)
	}

	if err := os.WriteFile(crash, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sinkMany(h.Host, 6, 20)
	st := waitFailed(t, h, "p")
	if !errors.Is(st.Err, ErrCrashLoop) || !st.RetryAt.IsZero() {
		t.Errorf("failed status: err %v, retry at %v; want a crash loop and no retry time", st.Err, st.RetryAt)
	}
	// The request made while it ran is not taken for this failure.
	time.Sleep(300 * time.Millisecond)
	if st := h.status(t, "p"); st.State != StateFailed {
		t.Fatalf("state %s without being asked, want failed", st.State)
	}

	if err := os.Remove(crash); err != nil {
		t.Fatal(err)
	}
	if names := h.RetryFailed(); len(names) != 1 || names[0] != "p" {
		t.Fatalf("RetryFailed asked %v, want [p] (ok is running)", names)
	}
	waitFor(t, delivery, "recovery and catch-up after the request", func() bool {
		st := h.status(t, "p")
		return st.State == StateRunning && st.LastAcked >= 25 && !st.Lagging
	})
	gaps := checkGapped(t, readRecorded(t, out), 1, 25)
	if len(gaps) != 0 {
		t.Errorf("gaps %+v, want every missed event", gaps)
	}
	checkRecovered(t, h.status(t, "p"))
	if !strings.Contains(h.logs.String(), "cause=asked") {
		t.Errorf("log does not say the start was asked for:\n%s", h.logs.String())
	}
	if st := h.status(t, "ok"); st.State != StateRunning || st.Restarts != 0 {
		t.Errorf("the healthy plugin was touched: %s, %d restarts", st.State, st.Restarts)
	}
}
