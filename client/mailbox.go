package client

import (
	"sync"
	"time"
)

// abortGrace is how long a mailbox keeps offering queued events to a
// consumer after Client.Close: long enough for a reader that is draining
// the channel to see the final Closed event, short enough that an
// abandoned channel does not hold Close up.
const abortGrace = 200 * time.Millisecond

// mailbox is an unbounded FIFO drained by one goroutine into a channel, so
// that the connection's reader never blocks on a slow consumer. put and
// close never block. After close, the goroutine delivers what is queued
// and then closes the channel. abort (closed by Client.Close) makes it drop
// what is left after a short grace period and close the channel, so an
// abandoned consumer cannot pin the goroutine.
type mailbox struct {
	mu     sync.Mutex
	q      []Event
	closed bool
	wake   chan struct{}
	out    chan Event
	abort  <-chan struct{}
}

func newMailbox(abort <-chan struct{}) *mailbox {
	m := &mailbox{wake: make(chan struct{}, 1), out: make(chan Event), abort: abort}
	go m.run()
	return m
}

// put queues ev; it reports false if the mailbox is already closed.
func (m *mailbox) put(ev Event) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.q = append(m.q, ev)
	m.signal()
	return true
}

// close queues a last event (unless final is nil) and closes the mailbox.
// It reports false if it was already closed.
func (m *mailbox) close(final *Event) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	if final != nil {
		m.q = append(m.q, *final)
	}
	m.closed = true
	m.signal()
	return true
}

func (m *mailbox) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mailbox) run() {
	defer close(m.out)
	abort := m.abort
	var grace <-chan time.Time // set once abort is seen
	for {
		m.mu.Lock()
		if len(m.q) == 0 {
			closed := m.closed
			m.mu.Unlock()
			if closed || grace != nil {
				return
			}
			select {
			case <-m.wake:
			case <-abort:
				return
			}
			continue
		}
		ev := m.q[0]
		m.q[0] = Event{}
		m.q = m.q[1:]
		m.mu.Unlock()
		if grace == nil {
			select {
			case m.out <- ev:
				continue
			case <-abort:
				grace = time.After(abortGrace)
			}
		}
		select {
		case m.out <- ev:
		case <-grace:
			return
		}
	}
}
