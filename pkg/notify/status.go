package notify

import (
	"fmt"
	"time"
)

// State is where a plugin is in its lifecycle.
type State int

const (
	// StateStarting: the process is being launched and handshaken.
	StateStarting State = iota
	// StateRunning: the plugin is up and receiving events.
	StateRunning
	// StateBackoff: the plugin crashed or failed to start and waits for
	// its next start.
	StateBackoff
	// StateFailed: the plugin failed for good for now (bad binary,
	// handshake, checksum, rejected configuration, or too many failures in
	// a row). It receives nothing and is started again from scratch at
	// Status.RetryAt, after Options.RetryFailedAfter (never when retrying
	// is disabled), or at once on Host.RetryFailed.
	StateFailed
	// StateStopped: the host was closed.
	StateStopped
)

func (s State) String() string {
	switch s {
	case StateStarting:
		return "starting"
	case StateRunning:
		return "running"
	case StateBackoff:
		return "backoff"
	case StateFailed:
		return "failed"
	case StateStopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is a snapshot of one plugin's delivery. It is a plain value.
type Status struct {
	Name  string
	State State
	// PID of the running process, 0 when none.
	PID int
	// Restarts counts process starts after the first one.
	Restarts int
	// QueueDepth and QueueCapacity are the events queued and the bound.
	QueueDepth, QueueCapacity int
	// Lagging is true while the plugin is delivered from the history
	// instead of its queue (after an overflow or at resume).
	Lagging bool
	// LastAcked is the zxid up to which every event for the plugin was
	// acknowledged (-1 before the first event).
	LastAcked int64
	// Delivered counts events acknowledged by the plugin.
	Delivered uint64
	// Redelivered counts events sent again because an earlier attempt was
	// not acknowledged (a crash, a timeout, an error): at-least-once
	// duplicates the plugin may have seen twice.
	Redelivered uint64
	// Overflows counts the times the queue was full and events were left
	// to the history.
	Overflows uint64
	// Gaps counts gap events delivered; LastGap is the newest range.
	Gaps    uint64
	LastGap [2]int64
	// Health is "ok", "unsupported", "unknown" or the plugin's error.
	Health string
	// LastError is the most recent failure, "" when none yet.
	LastError string
	// Err is the error that stopped a failed plugin, nil unless State is
	// StateFailed; errors.Is works with the package's sentinels.
	Err error
	// Failures counts the times the plugin entered StateFailed. A plugin
	// that is running with Failures > 0 recovered from a failure.
	Failures int
	// FailedAt is when the plugin last entered StateFailed; zero if never.
	FailedAt time.Time
	// RetryAt is when a failed plugin will be started again; zero unless
	// State is StateFailed and retrying is enabled.
	RetryAt time.Time
}

// Monitor writes the host's figures for the server's mntr, through add
// (server.Options.Monitor). First the totals, for alerting:
//
//	zkx_notifiers                          plugins configured
//	zkx_notifiers_running                  plugins in StateRunning
//	zkx_notifiers_failed                   plugins in StateFailed
//
// then, for each plugin in configuration order, zkx_notifier_<name>_ and:
//
//	state            starting, running, backoff, failed or stopped
//	up               1 when running, else 0
//	last_acked_zxid  every event up to it acknowledged (-1 before any)
//	queue_depth      events queued for the plugin
//	lagging          1 while delivered from the history, else 0
//	delivered        events acknowledged
//	redelivered      events sent again after a failed attempt
//	overflows        times the queue was full
//	gaps             gap events delivered
//	restarts         process starts after the first
//	failures         times the plugin entered StateFailed
//
// Names are limited to letters, digits, '-' and '_', so every key is one
// token.
func (h *Host) Monitor(add func(key string, value any)) {
	sts := h.Status()
	running, failed := 0, 0
	for _, st := range sts {
		switch st.State {
		case StateRunning:
			running++
		case StateFailed:
			failed++
		}
	}
	add("zkx_notifiers", len(sts))
	add("zkx_notifiers_running", running)
	add("zkx_notifiers_failed", failed)
	b01 := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	for _, st := range sts {
		p := "zkx_notifier_" + st.Name + "_"
		add(p+"state", st.State.String())
		add(p+"up", b01(st.State == StateRunning))
		add(p+"last_acked_zxid", st.LastAcked)
		add(p+"queue_depth", st.QueueDepth)
		add(p+"lagging", b01(st.Lagging))
		add(p+"delivered", st.Delivered)
		add(p+"redelivered", st.Redelivered)
		add(p+"overflows", st.Overflows)
		add(p+"gaps", st.Gaps)
		add(p+"restarts", st.Restarts)
		add(p+"failures", st.Failures)
	}
}
