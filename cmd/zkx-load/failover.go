package main

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// retryPause is how long the failover client waits before it tries the
// next host after a failed connect or a refused write. It has no backoff
// and no random delay, so that the time measured is the servers', not a
// client library's retry policy (the Java client waits a random 0-1 s
// before each reconnect and 1 s after trying every host).
const retryPause = 10 * time.Millisecond

// failoverResult is one leader kill.
type failoverResult struct {
	onLeader bool          // the client was connected to the leader
	d        time.Duration // from the kill to the first write that succeeded
	connects int           // sessions (re)established after the kill
}

// failoverWriter is a client with a connect string of every member that
// does synchronous setData in a loop, moving to the next host (and keeping
// its session) whenever its connection fails, as a ZooKeeper client does.
type failoverWriter struct {
	hosts  []string
	killAt atomic.Int64 // UnixNano of the kill; MaxInt64 before it
	ok     atomic.Int64 // successful writes
	stop   atomic.Bool
	first  chan time.Duration // the first write sent after the kill and acknowledged
	done   chan struct{}

	mu       sync.Mutex
	cur      *client // the connection in use, for a forced stop
	connects int     // connections made after the kill
	lastErr  string
}

func newFailoverWriter(hosts []string) *failoverWriter {
	w := &failoverWriter{hosts: hosts, first: make(chan time.Duration, 1), done: make(chan struct{})}
	w.killAt.Store(math.MaxInt64)
	return w
}

func (w *failoverWriter) setCur(c *client) {
	w.mu.Lock()
	w.cur = c
	w.mu.Unlock()
}

func (w *failoverWriter) noteErr(format string, args ...any) {
	w.mu.Lock()
	w.lastErr = fmt.Sprintf(format, args...)
	w.mu.Unlock()
}

func (w *failoverWriter) run() {
	defer close(w.done)
	const path = "/zkx-load-failover"
	data := []byte(strings.Repeat("f", 100))
	var (
		c        *client
		sess     proto.ConnectResponse
		zxid     int64
		next     int
		reported bool
	)
	drop := func() {
		zxid = max(zxid, c.zxid)
		c.close()
		c = nil
		w.setCur(nil)
		next = (next + 1) % len(w.hosts)
	}
	for !w.stop.Load() {
		if c == nil {
			req := proto.ConnectRequest{TimeOut: 30000, SessionID: sess.SessionID, Passwd: sess.Passwd, LastZxidSeen: zxid}
			if req.Passwd == nil {
				req.Passwd = make([]byte, 16)
			}
			nc, err := dialSession(w.hosts[next], req)
			if errors.Is(err, errSessionExpired) {
				w.noteErr("%s: session 0x%x expired", w.hosts[next], sess.SessionID)
				sess = proto.ConnectResponse{}
				continue
			}
			if err != nil {
				w.noteErr("connect %s: %v", w.hosts[next], err)
				next = (next + 1) % len(w.hosts)
				time.Sleep(retryPause)
				continue
			}
			c, sess = nc, nc.sess
			w.setCur(c)
			if time.Now().UnixNano() >= w.killAt.Load() {
				w.mu.Lock()
				w.connects++
				w.mu.Unlock()
			}
		}
		t0 := time.Now()
		code, err := c.call(proto.OpSetData, &proto.SetDataRequest{Path: path, Data: data, Version: -1})
		if err != nil {
			w.noteErr("setData on %s: %v", w.hosts[next], err)
			drop()
			continue
		}
		switch code {
		case 0:
		case proto.CodeNoNode:
			code, err := c.call(proto.OpCreate, &proto.CreateRequest{Path: path, ACL: znode.OpenACLUnsafe})
			if err != nil {
				drop()
			} else if code != 0 && code != proto.CodeNodeExists {
				w.noteErr("create: %s", proto.CodeName(code))
				time.Sleep(retryPause)
			}
			continue
		case proto.CodeSessionExpired:
			w.noteErr("setData: session expired")
			sess = proto.ConnectResponse{}
			drop()
			continue
		default:
			w.noteErr("setData on %s: %s", w.hosts[next], proto.CodeName(code))
			time.Sleep(retryPause)
			continue
		}
		w.ok.Add(1)
		if k := w.killAt.Load(); !reported && t0.UnixNano() >= k {
			reported = true
			w.first <- time.Since(time.Unix(0, k))
		}
	}
	if c != nil {
		c.closeSession()
		w.setCur(nil)
	}
}

// halt stops the writer, closing its connection if it is stuck in a call.
func (w *failoverWriter) halt() {
	w.stop.Store(true)
	select {
	case <-w.done:
		return
	case <-time.After(2 * time.Second):
	}
	w.mu.Lock()
	if w.cur != nil {
		w.cur.close()
	}
	w.mu.Unlock()
	<-w.done
}

// failover measures one leader failover: a client connected to the leader
// (onLeader) or to a follower, with every member in its connect string,
// writes in a loop; the leader is killed with SIGKILL; the result is the
// time from the kill to the first write sent after it that succeeds. The
// killed member is then started again on its data and the ensemble
// waited for, ready for the next measurement.
func (e *ensemble) failover(onLeader bool) (failoverResult, error) {
	res := failoverResult{onLeader: onLeader}
	lead, err := e.waitReady(90 * time.Second)
	if err != nil {
		return res, err
	}
	order := clientOrder(len(e.members), lead)
	if onLeader {
		order = append([]int{lead}, order[:len(order)-1]...)
	}
	hosts := make([]string, len(order))
	for i, m := range order {
		hosts[i] = e.members[m].client
	}
	w := newFailoverWriter(hosts)
	go w.run()
	// Writing steadily before the kill.
	start := time.Now()
	for w.ok.Load() < 50 || time.Since(start) < time.Second {
		if time.Since(start) > 30*time.Second {
			w.halt()
			return res, fmt.Errorf("failover client made %d writes in 30 s before the kill (last error: %s)", w.ok.Load(), w.lastErr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	victim := e.members[lead]
	w.killAt.Store(time.Now().UnixNano())
	victim.kill()
	select {
	case res.d = <-w.first:
	case <-time.After(90 * time.Second):
		w.halt()
		return res, fmt.Errorf("no write succeeded within 90 s of killing the leader (member %d; last error: %s)\n%s", victim.id, w.lastErr, e.logTails(15))
	}
	w.halt()
	res.connects = w.connects
	if err := victim.start(); err != nil {
		return res, fmt.Errorf("restart member %d: %w", victim.id, err)
	}
	if _, err := e.waitReady(90 * time.Second); err != nil {
		return res, fmt.Errorf("after restarting member %d: %w\n%s", victim.id, err, e.logTails(15))
	}
	return res, nil
}
