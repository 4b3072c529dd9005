package ensemble

import (
	"bufio"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// fsm adapts the server's StateMachine to raft.FSM.
type fsm struct{ n *Node }

func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand || len(l.Data) < StampSize {
		return nil
	}
	if f.n.delay != nil {
		// The leader applies at once (through the queue, to keep order):
		// the lag is the followers' and observers'.
		d := f.n.opts.ApplyDelay
		if f.n.raft.State() == raft.Leader {
			d = 0
		}
		f.n.delay.push(l.Data, d)
		return nil
	}
	f.n.sm.Apply(l.Data)
	return nil
}

func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	if f.n.delay != nil {
		f.n.delay.drain()
	}
	write, release, err := f.n.sm.Snapshot()
	if err != nil {
		return nil, err
	}
	return &snapshot{write: write, release: release}, nil
}

func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if f.n.delay != nil {
		f.n.delay.drain()
	}
	return f.n.sm.Restore(bufio.NewReaderSize(rc, 256<<10))
}

// snapshot streams the captured state into raft's snapshot sink.
type snapshot struct {
	write   func(io.Writer) error
	release func()
}

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriterSize(sink, 256<<10)
	err := s.write(w)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *snapshot) Release() { s.release() }

// delayQueue applies entries ApplyDelay after they were committed, in
// order: the test-only planted lag of Options.ApplyDelay.
type delayQueue struct {
	sm    StateMachine
	mu    sync.Mutex
	cond  *sync.Cond
	items []delayed
	busy  bool
	done  bool
}

type delayed struct {
	at    time.Time
	entry []byte
}

func newDelayQueue(sm StateMachine) *delayQueue {
	q := &delayQueue{sm: sm}
	q.cond = sync.NewCond(&q.mu)
	go q.run()
	return q
}

func (q *delayQueue) push(entry []byte, d time.Duration) {
	q.mu.Lock()
	q.items = append(q.items, delayed{at: time.Now().Add(d), entry: entry})
	q.cond.Broadcast()
	q.mu.Unlock()
}

func (q *delayQueue) run() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		for len(q.items) == 0 && !q.done {
			q.cond.Wait()
		}
		if q.done {
			return
		}
		it := q.items[0]
		q.busy = true
		q.mu.Unlock()
		time.Sleep(time.Until(it.at))
		q.sm.Apply(it.entry)
		q.mu.Lock()
		q.items = q.items[1:]
		q.busy = false
		q.cond.Broadcast()
	}
}

// drain waits until every queued entry is applied.
func (q *delayQueue) drain() {
	q.mu.Lock()
	for (len(q.items) > 0 || q.busy) && !q.done {
		q.cond.Wait()
	}
	q.mu.Unlock()
}

func (q *delayQueue) close() {
	q.mu.Lock()
	q.done = true
	q.cond.Broadcast()
	q.mu.Unlock()
}
