package server

import (
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// The expiry loop sleeps until the earliest bucket is due, whatever the
// phase of the server's start: a session touched at t with timeout T is
// due at the first tick boundary after t+T, and the loop wakes then, not
// up to a tick later as a ticker started with the server would.
func TestExpiryWaitsUntilTheBucketIsDue(t *testing.T) {
	tick := 2 * time.Second
	start := time.UnixMilli(1_000_000_700) // not on a tick boundary
	tbl := newSessionTable(tick, start)
	if _, ok := tbl.nextDue(); ok {
		t.Fatal("an empty table has a due bucket")
	}
	if got := expiryWait(0, false, start, tick); got != tick {
		t.Errorf("wait with no session = %v, want one tick (%v)", got, tick)
	}

	touched := start.Add(300 * time.Millisecond)
	sess := tbl.add(1, nil, 10*time.Second, touched)
	due, ok := tbl.nextDue()
	// touched+10s = ...011_000 ms; the next boundary of 2s ticks after it.
	want := tbl.roundUp(touched.UnixMilli() + 10_000)
	if !ok || due != want || due != sess.expireAt {
		t.Fatalf("nextDue = %d, %v; want %d (the session's bucket)", due, ok, want)
	}
	if due <= touched.UnixMilli()+10_000 || due > touched.UnixMilli()+10_000+tick.Milliseconds() {
		t.Fatalf("bucket %d is not within one tick after touch+timeout %d", due, touched.UnixMilli()+10_000)
	}

	// Far from the bucket the loop looks again after a tick; within a tick
	// of it, it sleeps exactly until it.
	if got := expiryWait(due, true, touched, tick); got != tick {
		t.Errorf("wait 10s before the bucket = %v, want one tick", got)
	}
	at := time.UnixMilli(due).Add(-730 * time.Millisecond)
	if got := expiryWait(due, true, at, tick); got != 730*time.Millisecond {
		t.Errorf("wait 730ms before the bucket = %v, want 730ms", got)
	}
	if got := expiryWait(due, true, time.UnixMilli(due+5), tick); got != 0 {
		t.Errorf("wait past the bucket = %v, want 0", got)
	}

	// A touch moves the session to a later bucket, and the earlier one is
	// gone.
	tbl.touch(sess, touched.Add(3*time.Second))
	if d2, _ := tbl.nextDue(); d2 <= due {
		t.Errorf("after a later touch nextDue = %d, want after %d", d2, due)
	}
	if got := tbl.expired(time.UnixMilli(due)); len(got) != 0 {
		t.Errorf("expired at the old bucket: %d sessions, want none", len(got))
	}
}

// A session expires no earlier than its timeout after the last thing its
// client sent, and its ephemerals go with it. The upper bound, timeout
// plus one tick, is logged: timing bounds are measured, not asserted, on
// a shared machine.
func TestSessionNeverExpiresEarly(t *testing.T) {
	s := startTestServer(t, func(o *Options) {
		o.TickTime = 100 * time.Millisecond
		o.MaxSessionTimeout = 30 * time.Second
	})
	w := connectRaw(t, s.Addr().String())
	a := dialRaw(t, s.Addr().String())
	if _, err := a.handshake(proto.ConnectRequest{TimeOut: 1000, Passwd: make([]byte, 16)}); err != nil {
		t.Fatal(err)
	}
	if code := a.call(proto.OpCreate, &proto.CreateRequest{Path: "/lease", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeEphemeral)}, nil); code != 0 {
		t.Fatalf("create /lease: %s", proto.CodeName(code))
	}
	lastSent := time.Now() // a's last request was answered by now: the touch is earlier
	if code := w.call(proto.OpExists, &proto.ExistsRequest{Path: "/lease", Watch: true}, nil); code != 0 {
		t.Fatalf("exists /lease: %s", proto.CodeName(code))
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(w.pending) == 0 && time.Now().Before(deadline) {
		w.call(proto.OpPing, nil, nil)
		time.Sleep(5 * time.Millisecond)
	}
	gone := time.Since(lastSent)
	if len(w.pending) != 1 || w.pending[0].Type != int32(znode.EventNodeDeleted) {
		t.Fatalf("watcher saw %+v, want NodeDeleted /lease", w.pending)
	}
	if gone < time.Second {
		t.Fatalf("session with a 1s timeout expired %v after its last request", gone)
	}
	t.Logf("1s session expired %v after its last request (due within 1s + one 100ms tick)", gone)
}
