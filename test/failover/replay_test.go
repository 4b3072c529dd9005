package failover

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkx-dev/zkx/client"
	"github.com/zkx-dev/zkx/test/harness"
)

// A recursive watch of zkx's Go client survives the death of the member
// it is connected to: the client re-arms it on another member with
// setWatches2 from the last zxid it saw, that member replays what the
// client missed (10 creates made while the client is held back from
// reconnecting) from its own replay window, and the client sees every
// change exactly once, in zxid order.
func TestRecursiveWatchReplaysAcrossMembers(t *testing.T) {
	harness.SkipIfShort(t)
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3, Extra: "four_letter_words: [\"*\"]\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Once gate is set, the watcher's reconnection waits until it is
	// closed: the test makes sure changes happen while it is away.
	var gate atomic.Pointer[chan struct{}]
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if ch := gate.Load(); ch != nil {
			select {
			case <-*ch:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c, err := client.Connect(ctx, e.ConnectString(), client.Options{SessionTimeout: 10 * time.Second, Dialer: dial,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.Create(ctx, "/w", nil, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := c.AddWatch(ctx, "/w", client.AddWatchPersistentRecursive)
	if err != nil {
		t.Fatal(err)
	}
	writer := connectZK(t, e.ConnectString())
	const total = 60
	const away = 10 // creates made while the watcher cannot reconnect
	var open chan struct{}
	var holder *harness.Member
	for i := range total {
		if i == total/3+1+away {
			// Every live member has applied the creates made while the
			// watcher was away, so whichever it reconnects to replays them
			// all; then let it reconnect.
			_, st, err := writer.Exists(fmt.Sprintf("/w/%03d", i-1))
			if err != nil {
				t.Fatal(err)
			}
			e.WaitFor(t, 30*time.Second, func() error {
				for _, m := range e.Members() {
					if m == holder {
						continue
					}
					if z, err := e.Zxid(m); err != nil || z < st.Czxid {
						return fmt.Errorf("member %d at zxid %#x, want %#x (%v)", m.ID, z, st.Czxid, err)
					}
				}
				return nil
			})
			close(open)
		}
		p := fmt.Sprintf("/w/%03d", i)
		for {
			_, err := writer.Create(p, nil, 0, zk.WorldACL(zk.PermAll))
			if err == nil || err == zk.ErrNodeExists {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if i == total/3 {
			holder = sessionHolder(t, e, c.SessionID())
			t.Logf("killing member %d (%s), which holds the watcher's connection", holder.ID, e.Mode(holder))
			open = make(chan struct{})
			gate.Store(&open)
			e.Kill(holder)
		}
	}
	seen := map[string]int{}
	var last int64
	deadline := time.After(60 * time.Second)
	for len(seen) < total {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch ended after %d events", len(seen))
			}
			if ev.Type == client.EventPersistentWatchRemoved {
				t.Fatalf("watch removed: %+v", ev)
			}
			if ev.Type != client.EventNodeCreated || !strings.HasPrefix(ev.Path, "/w/") {
				continue
			}
			if ev.Zxid <= last {
				t.Errorf("event %s at zxid %#x after %#x: out of order", ev.Path, ev.Zxid, last)
			}
			last = ev.Zxid
			seen[ev.Path]++
			if seen[ev.Path] > 1 {
				t.Errorf("%s delivered %d times", ev.Path, seen[ev.Path])
			}
		case <-deadline:
			t.Fatalf("after 60 s the watcher has seen %d of %d creates", len(seen), total)
		}
	}
	replayed := 0
	for _, m := range e.Members() {
		if out, err := harness.FourLetterWord(m.ClientAddr, "mntr", time.Second); err == nil {
			for _, l := range strings.Split(out, "\n") {
				if v, ok := strings.CutPrefix(l, "zkx_replayed_events\t"); ok {
					var n int
					fmt.Sscan(v, &n)
					replayed += n
				}
			}
		}
	}
	t.Logf("every create seen once, in order; %d events replayed by the member the watcher moved to", replayed)
	if replayed < away {
		t.Errorf("%d events replayed, want at least the %d created while the watcher was away", replayed, away)
	}
}

// sessionHolder is the member whose cons lists session id.
func sessionHolder(t *testing.T, e *harness.Ensemble, id int64) *harness.Member {
	t.Helper()
	want := fmt.Sprintf("sid=0x%x", id)
	var holder *harness.Member
	e.WaitFor(t, 30*time.Second, func() error {
		for _, m := range e.Members() {
			out, err := harness.FourLetterWord(m.ClientAddr, "cons", time.Second)
			if err == nil && strings.Contains(out, want) {
				holder = m
				return nil
			}
		}
		return fmt.Errorf("no member lists session %#x in cons", id)
	})
	return holder
}
