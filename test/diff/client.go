package diff

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkx-dev/zkx/test/harness"
)

// WaitTimeout bounds every wait for a condition (a session, an event, an expiry).
const WaitTimeout = 15 * time.Second

// Env is one run of one scenario against one server: the address, the transcript the
// scenario writes and the clients it opened. Scenarios call Fatalf for harness failures
// (not for server behaviour, which goes into the transcript).
//
// Env is used by one scenario goroutine; the clients' event callbacks may run concurrently.
type Env struct {
	Addr string
	// Root is the scenario's own top-level znode, the same name on both servers.
	Root string
	Tx   *Transcript
	// Fatalf stops the scenario (t.Fatalf of the running test).
	Fatalf func(format string, args ...any)
	// Log collects go-zookeeper's log lines, shown when the scenario fails.
	Log *SyncBuffer

	clients []*Client
	raws    []*RawClient
	closers []func() // other clients (zkx client) to close at the end
}

// CloseAll closes every client the scenario opened that is still open.
func (e *Env) CloseAll() {
	for _, c := range e.clients {
		c.conn.Close()
	}
	for _, rc := range e.raws {
		rc.conn.Close()
	}
	for _, f := range e.closers {
		f()
	}
}

// SyncBuffer is a harness.SyncBuffer that go-zookeeper can log to.
type SyncBuffer struct {
	harness.SyncBuffer
}

// Printf makes SyncBuffer a zk.Logger.
func (b *SyncBuffer) Printf(format string, args ...any) {
	fmt.Fprintf(b, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
}

// ConnectOptions tunes Env.Connect.
type ConnectOptions struct {
	// SessionTimeout requested by the client; default 4 s (the servers' 20-tick maximum).
	SessionTimeout time.Duration
	// SendBuffer is go-zookeeper's outgoing packet buffer size (default 1.5 MiB).
	SendBuffer int
}

// Client is a go-zookeeper connection whose results and events are written to the scenario's
// transcript, each line prefixed by the client's name.
type Client struct {
	env  *Env
	name string
	conn *zk.Conn
	cut  *cutter

	mu      sync.Mutex
	cond    *sync.Cond
	events  []zk.Event // server notifications, in arrival order, not yet recorded
	states  []zk.State // session state changes, in order, not yet consumed
	watches []*watch   // one-shot watch channels not yet seen to fire
}

type watch struct {
	label string
	ch    <-chan zk.Event
}

// Connect opens a client named name and waits until it has a session. The line
// "name: session <S>" is recorded.
func (e *Env) Connect(name string, opts ConnectOptions) *Client {
	if opts.SessionTimeout == 0 {
		opts.SessionTimeout = 4 * time.Second
	}
	c := &Client{env: e, name: name}
	c.cond = sync.NewCond(&c.mu)
	if opts.SendBuffer == 0 {
		opts.SendBuffer = 1536 * 1024 // go-zookeeper's own default
	}
	// Every connection goes through a cutter; only Cut ever uses it.
	c.cut = &cutter{}
	conn, evc, err := zk.Connect([]string{e.Addr}, opts.SessionTimeout,
		zk.WithLogger(prefixLogger{e.Log, name}),
		zk.WithLogInfo(false),
		zk.WithEventCallback(c.onEvent),
		zk.WithDialer(c.cut.dial),
		zk.WithMaxConnBufferSize(opts.SendBuffer),
	)
	if err != nil {
		e.Fatalf("%s: connect: %v", name, err)
	}
	go func() { // the callback sees everything; keep the channel from filling
		for range evc {
		}
	}()
	c.conn = conn
	e.clients = append(e.clients, c)
	if !c.waitState(zk.StateHasSession, WaitTimeout) {
		e.Fatalf("%s: no session within %v", name, WaitTimeout)
	}
	e.Tx.Addf("%s: session %s", name, SessionToken(conn.SessionID()))
	return c
}

type prefixLogger struct {
	l    zk.Logger
	name string
}

func (p prefixLogger) Printf(format string, args ...any) { p.l.Printf(p.name+": "+format, args...) }

func (c *Client) onEvent(ev zk.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev.Type == zk.EventSession {
		c.states = append(c.states, ev.State)
	} else {
		c.events = append(c.events, ev)
	}
	c.cond.Broadcast()
}

// waitState waits until state s has been reported since the last wait consumed states.
func (c *Client) waitState(s zk.State, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for i, got := range c.states {
			if got == s {
				c.states = c.states[i+1:]
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		c.cond.Wait()
	}
}

// Conn is the underlying go-zookeeper connection, for operations the wrapper lacks.
func (c *Client) Conn() *zk.Conn { return c.conn }

// Name is the client's transcript prefix.
func (c *Client) Name() string { return c.name }

func (c *Client) rec(format string, args ...any) {
	c.env.Tx.Addf(c.name+": "+format, args...)
}

// Create records "create PATH ... -> NEWPATH | ERR".
func (c *Client) Create(path string, data []byte, flags int32, acl []zk.ACL) string {
	if acl == nil {
		acl = zk.WorldACL(zk.PermAll)
	}
	p, err := c.conn.Create(path, data, flags, acl)
	if err != nil {
		c.rec("create %s %s flags=%d acl=%s -> %s", path, fmtData(data), flags, fmtACL(acl), ErrName(err))
		return ""
	}
	c.rec("create %s %s flags=%d acl=%s -> %s", path, fmtData(data), flags, fmtACL(acl), p)
	return p
}

// Delete records "delete PATH vVERSION -> ok | ERR".
func (c *Client) Delete(path string, version int32) error {
	err := c.conn.Delete(path, version)
	c.rec("delete %s v%d -> %s", path, version, ErrName(err))
	return err
}

// Exists records "exists PATH -> true|false STAT | ERR".
func (c *Client) Exists(path string) bool {
	ok, st, err := c.conn.Exists(path)
	if err != nil {
		c.rec("exists %s -> %s", path, ErrName(err))
		return false
	}
	c.rec("exists %s -> %v %s", path, ok, statIf(ok, st))
	return ok
}

// ExistsW is Exists with a watch; the watch's firing is recorded by Drain.
func (c *Client) ExistsW(path string) bool {
	ok, st, ch, err := c.conn.ExistsW(path)
	if err != nil {
		c.rec("existsW %s -> %s", path, ErrName(err))
		return false
	}
	c.rec("existsW %s -> %v %s", path, ok, statIf(ok, st))
	c.addWatch("existsW "+path, ch)
	return ok
}

// Get records "get PATH -> DATA STAT | ERR".
func (c *Client) Get(path string) []byte {
	data, st, err := c.conn.Get(path)
	if err != nil {
		c.rec("get %s -> %s", path, ErrName(err))
		return nil
	}
	c.rec("get %s -> %s %s", path, fmtData(data), FmtStat(st))
	return data
}

// GetW is Get with a watch.
func (c *Client) GetW(path string) {
	data, st, ch, err := c.conn.GetW(path)
	if err != nil {
		c.rec("getW %s -> %s", path, ErrName(err))
		return
	}
	c.rec("getW %s -> %s %s", path, fmtData(data), FmtStat(st))
	c.addWatch("getW "+path, ch)
}

// Set records "set PATH DATA vVERSION -> STAT | ERR".
func (c *Client) Set(path string, data []byte, version int32) error {
	st, err := c.conn.Set(path, data, version)
	if err != nil {
		c.rec("set %s %s v%d -> %s", path, fmtData(data), version, ErrName(err))
		return err
	}
	c.rec("set %s %s v%d -> %s", path, fmtData(data), version, FmtStat(st))
	return nil
}

// Children records "children PATH -> [sorted names] STAT | ERR".
func (c *Client) Children(path string) []string {
	kids, st, err := c.conn.Children(path)
	if err != nil {
		c.rec("children %s -> %s", path, ErrName(err))
		return nil
	}
	sort.Strings(kids)
	c.rec("children %s -> [%s] %s", path, strings.Join(kids, " "), FmtStat(st))
	return kids
}

// ChildrenW is Children with a watch.
func (c *Client) ChildrenW(path string) {
	kids, st, ch, err := c.conn.ChildrenW(path)
	if err != nil {
		c.rec("childrenW %s -> %s", path, ErrName(err))
		return
	}
	sort.Strings(kids)
	c.rec("childrenW %s -> [%s] %s", path, strings.Join(kids, " "), FmtStat(st))
	c.addWatch("childrenW "+path, ch)
}

// GetACL records "getACL PATH -> ACL STAT | ERR".
func (c *Client) GetACL(path string) {
	acl, st, err := c.conn.GetACL(path)
	if err != nil {
		c.rec("getACL %s -> %s", path, ErrName(err))
		return
	}
	c.rec("getACL %s -> %s %s", path, fmtACL(acl), FmtStat(st))
}

// SetACL records "setACL PATH ACL vVERSION -> STAT | ERR".
func (c *Client) SetACL(path string, acl []zk.ACL, version int32) {
	st, err := c.conn.SetACL(path, acl, version)
	if err != nil {
		c.rec("setACL %s %s v%d -> %s", path, fmtACL(acl), version, ErrName(err))
		return
	}
	c.rec("setACL %s %s v%d -> %s", path, fmtACL(acl), version, FmtStat(st))
}

// AddAuth records "addAuth SCHEME AUTH -> ok | ERR".
func (c *Client) AddAuth(scheme, auth string) {
	err := c.conn.AddAuth(scheme, []byte(auth))
	c.rec("addAuth %s %s -> %s", scheme, auth, ErrName(err))
}

// Sync records "sync PATH -> PATH | ERR".
func (c *Client) Sync(path string) {
	p, err := c.conn.Sync(path)
	if err != nil {
		c.rec("sync %s -> %s", path, ErrName(err))
		return
	}
	c.rec("sync %s -> %s", path, p)
}

// Multi records the multi's overall error and then one line per op result.
func (c *Client) Multi(desc string, ops ...any) {
	res, err := c.conn.Multi(ops...)
	c.rec("multi %s -> %s (%d results)", desc, ErrName(err), len(res))
	for i, r := range res {
		var parts []string
		parts = append(parts, ErrName(r.Error))
		if r.String != "" {
			parts = append(parts, r.String)
		}
		if r.Stat != nil {
			parts = append(parts, FmtStat(r.Stat))
		}
		c.rec("  op[%d] %s", i, strings.Join(parts, " "))
	}
}

// Close closes the session and records it. go-zookeeper's Close gives up waiting for the
// closeSession reply after one second, which a loaded machine or a slow disk sync on the
// server can exceed, and the scenarios go on as if the session were gone (its ephemerals
// deleted, watchers told). So Close also waits for go-zookeeper to report the connection
// ended, which it does once the reply to closeSession has arrived.
func (c *Client) Close() {
	c.mu.Lock()
	c.states = nil
	c.mu.Unlock()
	c.conn.Close()
	if !c.waitState(zk.StateDisconnected, WaitTimeout) {
		c.env.Fatalf("%s: connection still open %v after closing the session", c.name, WaitTimeout)
	}
	c.rec("closed")
}

func (c *Client) addWatch(label string, ch <-chan zk.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watches = append(c.watches, &watch{label: label, ch: ch})
}

// Drain records every notification the server has sent this client for changes made so far,
// then every watch channel that has fired, in arrival and registration order. It first does a
// round trip (exists "/") on this client: the server queues a connection's notifications
// before any later reply, so once that reply is in, no event for an earlier change can still
// be on its way. Drain therefore needs no sleeps; "no event" is recorded as "(no events)".
func (c *Client) Drain() {
	if _, _, err := c.conn.Exists("/"); err != nil {
		c.env.Fatalf("%s: barrier round trip: %v", c.name, err)
	}
	c.recordPending()
}

// AwaitEvents waits until at least n notifications are pending (changes made by the server
// itself, such as session expiry, have no reply to act as a barrier), then records as Drain.
func (c *Client) AwaitEvents(n int) {
	deadline := time.Now().Add(WaitTimeout)
	timer := time.AfterFunc(WaitTimeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	for len(c.events) < n && time.Now().Before(deadline) {
		c.cond.Wait()
	}
	got := len(c.events)
	c.mu.Unlock()
	if got < n {
		c.rec("timed out after %v waiting for %d events, have %d", WaitTimeout, n, got)
	}
	c.Drain()
}

// AwaitState waits for a session state change and records "state NAME" or a timeout.
func (c *Client) AwaitState(s zk.State) bool {
	if c.waitState(s, WaitTimeout) {
		c.rec("state %s", s)
		return true
	}
	c.rec("timed out after %v waiting for state %s", WaitTimeout, s)
	return false
}

func (c *Client) recordPending() {
	c.mu.Lock()
	evs := c.events
	c.events = nil
	var fired []string
	keep := c.watches[:0]
	for _, w := range c.watches {
		select {
		case ev, ok := <-w.ch:
			if ok {
				fired = append(fired, fmt.Sprintf("watch %s fired %s %s", w.label, ev.Type, ev.Path))
			} else {
				fired = append(fired, fmt.Sprintf("watch %s closed", w.label))
			}
		default:
			keep = append(keep, w)
		}
	}
	c.watches = keep
	c.mu.Unlock()

	if len(evs) == 0 && len(fired) == 0 {
		c.rec("(no events)")
		return
	}
	for _, ev := range evs {
		c.rec("event %s %s state=%s", ev.Type, ev.Path, ev.State)
	}
	for _, f := range fired {
		c.rec("%s", f)
	}
}

// Cut severs the client's TCP connection and refuses new ones until Restore, so the
// session can expire on the server while the client keeps trying.
func (c *Client) Cut() {
	c.cut.sever()
	c.rec("connection cut")
}

// Restore lets the client connect again.
func (c *Client) Restore() {
	c.cut.restore()
	c.rec("connection restored")
}

// cutter is a zk.Dialer that can drop the current connection and refuse new ones.
type cutter struct {
	mu      sync.Mutex
	refuse  bool
	current net.Conn
}

var errRefused = errors.New("diff: connection refused by test")

func (d *cutter) dial(network, address string, timeout time.Duration) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refuse {
		return nil, errRefused
	}
	conn, err := net.DialTimeout(network, address, timeout)
	if err == nil {
		d.current = conn
	}
	return conn, err
}

func (d *cutter) sever() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.refuse = true
	if d.current != nil {
		d.current.Close()
	}
}

func (d *cutter) restore() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.refuse = false
}
