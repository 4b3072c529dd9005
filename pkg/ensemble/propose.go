package ensemble

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Entry layout: every entry starts with the leader's stamp.
//
//	byte 0      flags (FlagZxid: the entry consumes a zxid)
//	bytes 1-8   zxid, big-endian
//	bytes 9-16  time, unix milliseconds, big-endian
//	bytes 17-   the server's command
const (
	StampSize = 17
	FlagZxid  = 1
)

// NewEntry returns an entry with room for the stamp and the given flags,
// ready for the command to be appended.
func NewEntry(flags byte, capacity int) []byte {
	b := make([]byte, StampSize, StampSize+capacity)
	b[0] = flags
	return b
}

// ReadStamp returns an entry's zxid and time.
func ReadStamp(entry []byte) (zxid, timeMs int64) {
	return int64(binary.BigEndian.Uint64(entry[1:9])), int64(binary.BigEndian.Uint64(entry[9:17]))
}

// proposal is one entry on its way to the log.
type proposal struct {
	entry  []byte
	origin uint64
	// done, for an entry forwarded to this member by another, reports the
	// outcome back to it; nil for this member's own entries.
	done func(error)
}

// Propose queues entry for the log. origin identifies the proposer (a
// client connection) in ProposalFailed. It never blocks.
func (n *Node) Propose(entry []byte, origin uint64) {
	n.enqueue(proposal{entry: entry, origin: origin})
}

func (n *Node) enqueue(p proposal) {
	if len(p.entry) < StampSize {
		panic("ensemble: entry shorter than its stamp")
	}
	n.qmu.Lock()
	if n.stopped {
		n.qmu.Unlock()
		n.fail(p, ErrShutdown)
		return
	}
	n.queue = append(n.queue, p)
	n.qcond.Signal()
	n.qmu.Unlock()
}

func (n *Node) fail(p proposal, err error) {
	n.failed.Add(1)
	if p.done != nil {
		p.done(err)
		return
	}
	n.sm.ProposalFailed(p.origin, err)
}

type applyWait struct {
	f raft.ApplyFuture
	p proposal
}

// proposeLoop drains the queue in order: on the leader it stamps and
// appends each entry; elsewhere it forwards each to the leader. Order is
// kept end to end: this loop is the only sender, the forwarding stream is
// one TCP connection, and the leader appends what one stream brings in
// the order it arrives.
func (n *Node) proposeLoop() {
	defer n.wg.Done()
	waits := make(chan applyWait, 4096)
	var wwg sync.WaitGroup
	wwg.Add(1)
	go func() {
		defer wwg.Done()
		for w := range waits {
			err := w.f.Error()
			if err != nil {
				n.fail(w.p, err)
			} else if w.p.done != nil {
				w.p.done(nil)
			}
		}
	}()
	defer func() { close(waits); wwg.Wait() }()
	for {
		n.qmu.Lock()
		for len(n.queue) == 0 && !n.stopped {
			n.qcond.Wait()
		}
		items := n.queue
		n.queue = nil
		stopped := n.stopped
		n.qmu.Unlock()
		if stopped {
			for _, p := range items {
				n.fail(p, ErrShutdown)
			}
			return
		}
		for _, p := range items {
			n.dispatch(p, waits)
		}
		n.fwd.flush(n)
	}
}

// dispatch appends p here if this member leads, or forwards it to the
// leader. An entry that could not be sent anywhere yet (no leader while an
// election runs, a leader that is gone and not yet replaced) waits, up to
// ProposeTimeout: it was never sent, so sending it to the next leader
// cannot apply it twice, and its client sees a slow write rather than a
// lost connection.
func (n *Node) dispatch(p proposal, waits chan<- applyWait) {
	deadline := time.Now().Add(n.opts.ProposeTimeout)
	for {
		if f, ok := n.appendLocal(p); ok {
			waits <- applyWait{f: f, p: p}
			return
		}
		if p.done != nil {
			// Forwarded to us, but we do not lead: the member that sent
			// it closes its client's connection.
			n.fail(p, ErrNoLeader)
			return
		}
		err := n.fwd.send(n, p)
		if err == nil {
			return
		}
		if !errors.Is(err, errNotSent) || time.Now().After(deadline) {
			n.fail(p, err)
			return
		}
		select {
		case <-n.stop:
			n.fail(p, ErrShutdown)
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// errNotSent marks a forwarding failure that happened before the entry
// left this member: it may be sent again.
var errNotSent = errors.New("ensemble: not sent")

// appendLocal appends p on this member if it leads, waiting out the
// barrier of a leader that has just been elected.
func (n *Node) appendLocal(p proposal) (raft.ApplyFuture, bool) {
	deadline := time.Now().Add(n.opts.ProposeTimeout)
	for {
		if n.raft.State() != raft.Leader {
			return nil, false
		}
		if n.stamp(p.entry) {
			n.proposals.Add(1)
			n.lastProposalSize.Store(int64(len(p.entry)))
			return n.raft.Apply(p.entry, n.opts.ProposeTimeout), true
		}
		if time.Now().After(deadline) {
			return nil, false
		}
		select {
		case <-n.stop:
			return nil, false
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// Frames on the forwarding stream: a type byte, a 4-byte length, the
// payload.
const (
	frameProposal = 'P' // follower -> leader: u64 id, entry
	frameTouch    = 'T' // follower -> leader: (i64 session, i32 timeout)*
	frameAck      = 'A' // leader -> follower: u64 id, error text ("" = committed)
	maxFrame      = 64 << 20
)

func writeFrame(w *bufio.Writer, typ byte, parts ...[]byte) error {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(size))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	size := binary.BigEndian.Uint32(hdr[1:])
	if size > maxFrame {
		return 0, nil, fmt.Errorf("ensemble: forwarding frame of %d bytes", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, nil, err
	}
	return hdr[0], b, nil
}

type pendingFwd struct {
	origin uint64
	at     time.Time
}

// fwdClient is a member's stream to the leader.
type fwdClient struct {
	mu      sync.Mutex
	conn    net.Conn
	w       *bufio.Writer
	leader  string
	nextID  uint64
	pending map[uint64]pendingFwd
}

// connect returns a stream to the current leader, replacing one to a
// former leader. Callers hold f.mu.
func (f *fwdClient) connect(n *Node) error {
	leader := n.leaderAddr()
	if leader == "" {
		return ErrNoLeader
	}
	if f.conn != nil && f.leader == leader {
		return nil
	}
	if f.conn != nil {
		f.closeLocked(errors.New("ensemble: the leader changed"), n)
	}
	if leader == n.self.Raft {
		return ErrNoLeader // raft names us, but we do not lead yet
	}
	c, err := dialFrom(n.mux.ln.Addr(), leader, n.opts.HeartbeatTimeout)
	if err != nil {
		return fmt.Errorf("ensemble: connect to leader %s: %w", leader, err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	if _, err := c.Write([]byte{muxForward}); err != nil {
		c.Close()
		return fmt.Errorf("ensemble: connect to leader %s: %w", leader, err)
	}
	f.conn, f.w, f.leader = c, bufio.NewWriterSize(c, 64<<10), leader
	n.log.Debug("forwarding to the leader", "leader", leader)
	go f.readAcks(n, c)
	return nil
}

func (f *fwdClient) send(n *Node, p proposal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.connect(n); err != nil {
		return fmt.Errorf("%w: %w", errNotSent, err)
	}
	f.nextID++
	id := f.nextID
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], id)
	if err := writeFrame(f.w, frameProposal, hdr[:], p.entry); err != nil {
		f.closeLocked(err, n)
		return err
	}
	f.pending[id] = pendingFwd{origin: p.origin, at: time.Now()}
	n.forwarded.Add(1)
	return nil
}

func (f *fwdClient) flush(n *Node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.w == nil {
		return
	}
	if err := f.w.Flush(); err != nil {
		f.closeLocked(err, n)
	}
}

// sendTouches sends the sessions touched since the last call.
func (f *fwdClient) sendTouches(n *Node, ids map[int64]int32) {
	b := make([]byte, 0, 12*len(ids))
	for id, to := range ids {
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint32(b, uint32(to))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn == nil {
		if n.leaderAddr() == "" {
			return
		}
		if err := f.connect(n); err != nil {
			return
		}
	}
	if err := writeFrame(f.w, frameTouch, b); err != nil {
		f.closeLocked(err, n)
		return
	}
	if err := f.w.Flush(); err != nil {
		f.closeLocked(err, n)
	}
}

// check drops the stream when the leader changed and fails forwarded
// entries that waited too long for an answer.
func (f *fwdClient) check(n *Node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn == nil {
		return
	}
	if l := n.leaderAddr(); l != f.leader {
		f.closeLocked(fmt.Errorf("ensemble: leader changed from %s to %q", f.leader, l), n)
		return
	}
	for _, p := range f.pending {
		if time.Since(p.at) > n.opts.ProposeTimeout {
			f.closeLocked(errors.New("ensemble: the leader did not answer a forwarded write in time"), n)
			return
		}
	}
}

func (f *fwdClient) closeConn(err error, n *Node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closeLocked(err, n)
}

// closeLocked drops the stream and fails every entry that has no answer:
// the client of each learns that its write's outcome is unknown.
func (f *fwdClient) closeLocked(err error, n *Node) {
	if f.conn != nil {
		f.conn.Close()
	}
	f.conn, f.w, f.leader = nil, nil, ""
	if len(f.pending) == 0 {
		return
	}
	n.log.Warn("forwarding stream to the leader closed; failing writes without an answer", "writes", len(f.pending), "err", err)
	pend := f.pending
	f.pending = map[uint64]pendingFwd{}
	// ProposalFailed takes the server's lock; the server may hold it while
	// it proposes (which takes only the queue lock, never f.mu), so calling
	// it here is safe.
	for _, p := range pend {
		n.failed.Add(1)
		n.sm.ProposalFailed(p.origin, err)
	}
}

func (f *fwdClient) readAcks(n *Node, c net.Conn) {
	r := bufio.NewReaderSize(c, 16<<10)
	for {
		typ, b, err := readFrame(r)
		if err == nil && (typ != frameAck || len(b) < 8) {
			err = fmt.Errorf("ensemble: unexpected frame %q from the leader", typ)
		}
		if err != nil {
			f.mu.Lock()
			if f.conn == c {
				f.closeLocked(err, n)
			}
			f.mu.Unlock()
			return
		}
		id := binary.BigEndian.Uint64(b[:8])
		msg := string(b[8:])
		f.mu.Lock()
		p, ok := f.pending[id]
		delete(f.pending, id)
		f.mu.Unlock()
		if ok && msg != "" {
			n.failed.Add(1)
			n.sm.ProposalFailed(p.origin, errors.New(msg))
		}
	}
}

// serveForward is the leader's end of a member's forwarding stream.
func (n *Node) serveForward(c net.Conn) {
	defer c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	r := bufio.NewReaderSize(c, 64<<10)
	var wmu sync.Mutex
	w := bufio.NewWriterSize(c, 16<<10)
	ack := func(id uint64, err error) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], id)
		msg := ""
		if err != nil {
			msg = err.Error()
			if msg == "" {
				msg = "failed"
			}
		}
		wmu.Lock()
		defer wmu.Unlock()
		if writeFrame(w, frameAck, b[:], []byte(msg)) == nil {
			w.Flush()
		}
	}
	for {
		typ, b, err := readFrame(r)
		if err != nil {
			return
		}
		switch typ {
		case frameProposal:
			if len(b) < 8+StampSize {
				return
			}
			id := binary.BigEndian.Uint64(b[:8])
			n.enqueue(proposal{entry: b[8:], done: func(err error) { ack(id, err) }})
		case frameTouch:
			if len(b)%12 != 0 || !n.IsLeader() {
				continue
			}
			ids := make([]int64, 0, len(b)/12)
			tos := make([]int32, 0, len(b)/12)
			for i := 0; i < len(b); i += 12 {
				ids = append(ids, int64(binary.BigEndian.Uint64(b[i:])))
				tos = append(tos, int32(binary.BigEndian.Uint32(b[i+8:])))
			}
			n.sm.Touched(ids, tos)
		default:
			return
		}
	}
}

// touchLoop sends touched sessions to the leader and checks the
// forwarding stream.
func (n *Node) touchLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.opts.TouchInterval)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		n.fwd.check(n)
		n.tmu.Lock()
		var ids map[int64]int32
		if len(n.touched) > 0 {
			ids, n.touched = n.touched, map[int64]int32{}
		}
		n.tmu.Unlock()
		if ids == nil || n.IsLeader() {
			continue
		}
		n.fwd.sendTouches(n, ids)
	}
}
