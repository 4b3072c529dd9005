package recipe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkx-dev/zkx/client"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// latchPrefix names the latch's nodes: latch-0000000007.
const latchPrefix = "latch-"

// retryDelay spaces out attempts after a failed call (connection loss).
const retryDelay = 100 * time.Millisecond

// LeaderLatch is one participant in a leader election under a directory.
// It is safe for concurrent use.
type LeaderLatch struct {
	c   *client.Client
	dir string
	id  []byte

	mu       sync.Mutex
	node     string // our node's path, "" before Start
	leader   bool
	started  bool
	ch       chan bool // capacity 1, holds the latest leadership value
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	unlisten func()
}

// NewLeaderLatch returns a latch for dir; id is stored as the node's data
// so that others can tell who leads. Call Start.
func NewLeaderLatch(c *client.Client, dir string, id []byte) *LeaderLatch {
	return &LeaderLatch{
		c:    c,
		dir:  dir,
		id:   id,
		ch:   make(chan bool, 1),
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// Start creates dir (and its parents) if needed, joins the election with
// an ephemeral-sequential node and returns; leadership is reported on
// Leadership.
func (l *LeaderLatch) Start(ctx context.Context) error {
	l.mu.Lock()
	if l.started {
		l.mu.Unlock()
		return errors.New("recipe: leader latch already started")
	}
	l.started = true
	l.mu.Unlock()
	if err := ensurePath(ctx, l.c, l.dir); err != nil {
		return err
	}
	if err := l.join(ctx); err != nil {
		return err
	}
	l.unlisten = l.c.AddStateListener(func(s client.State) {
		if s != client.StateConnected {
			// Without a connection the latch cannot know that its node
			// still exists, so it stops claiming leadership.
			l.setLeader(false)
		}
		select {
		case l.kick <- struct{}{}:
		default:
		}
	})
	go l.run()
	return nil
}

// join creates our node.
func (l *LeaderLatch) join(ctx context.Context) error {
	p, _, err := l.c.Create(ctx, znode.Join(l.dir, latchPrefix), l.id, client.CreateOptions{Mode: client.ModeEphemeralSequential})
	if err != nil {
		return fmt.Errorf("recipe: leader latch join: %w", err)
	}
	l.mu.Lock()
	l.node = p
	l.mu.Unlock()
	return nil
}

// Leadership returns a channel that holds the latest change of
// leadership: true when this latch became leader, false when it lost it.
// Only the latest value is kept.
func (l *LeaderLatch) Leadership() <-chan bool { return l.ch }

// IsLeader reports whether this latch currently leads. It is false as
// soon as the client is not connected: state changes reach the latch's
// listener asynchronously, but a latch whose client was closed, lost its
// connection or expired must not claim leadership in the meantime (after
// Close on the client returns, another participant may already lead).
func (l *LeaderLatch) IsLeader() bool {
	if l.c.State() != client.StateConnected {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leader
}

// Node returns the path of this latch's node.
func (l *LeaderLatch) Node() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.node
}

func (l *LeaderLatch) setLeader(v bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leader == v {
		return
	}
	l.leader = v
	select {
	case <-l.ch:
	default:
	}
	l.ch <- v
}

// Close leaves the election: the latch's node is deleted, so the next
// participant takes over, and leadership (if held) is reported lost.
func (l *LeaderLatch) Close(ctx context.Context) error {
	l.mu.Lock()
	started := l.started
	l.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-l.stop:
		return nil
	default:
	}
	close(l.stop)
	if l.unlisten != nil {
		l.unlisten()
		<-l.done
	}
	l.setLeader(false)
	err := l.c.Delete(ctx, l.Node(), -1)
	if errors.Is(err, client.ErrNoNode) || errors.Is(err, client.ErrSessionExpired) || errors.Is(err, client.ErrClosed) {
		err = nil
	}
	return err
}

func (l *LeaderLatch) run() {
	defer close(l.done)
	for {
		wait, err := l.check()
		switch {
		case errors.Is(err, client.ErrSessionExpired), errors.Is(err, client.ErrClosed), errors.Is(err, client.ErrAuthFailed):
			l.setLeader(false)
			return
		case err != nil:
			wait = time.After(retryDelay)
		}
		select {
		case <-l.stop:
			return
		case <-l.kick:
		case <-wait:
		}
	}
}

// check decides leadership once. It returns a channel that fires when
// the decision must be made again (the predecessor's watch), or nil when
// only a state change can change it.
func (l *LeaderLatch) check() (<-chan time.Time, error) {
	switch st := l.c.State(); {
	case st.Terminal():
		return nil, client.ErrSessionExpired
	case st != client.StateConnected:
		return nil, nil // wait for the reconnect kick
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	names, _, err := l.c.Children(ctx, l.dir)
	if err != nil {
		return nil, err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return !strings.HasPrefix(n, latchPrefix) })
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(sequence(a), sequence(b)) })
	own := znode.Base(l.Node())
	i := slices.Index(names, own)
	if i < 0 {
		// Our node is gone while the session lives (deleted by someone):
		// join again.
		l.setLeader(false)
		return closedTimer(), l.join(ctx)
	}
	if i == 0 {
		l.setLeader(true)
		return nil, nil
	}
	l.setLeader(false)
	_, ok, ev, err := l.c.ExistsW(ctx, znode.Join(l.dir, names[i-1]))
	if err != nil {
		return nil, err
	}
	if !ok {
		// The predecessor left between the two calls; its exist watch
		// stays registered but a fresh check decides at once.
		return closedTimer(), nil
	}
	fire := make(chan time.Time, 1)
	go func() {
		select {
		case <-ev:
			fire <- time.Now()
		case <-l.stop:
		}
	}()
	return fire, nil
}

// sequence is the numeric suffix of a sequential node's name.
func sequence(name string) string {
	if len(name) < 10 {
		return name
	}
	return name[len(name)-10:]
}

func closedTimer() <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}

// ensurePath creates path and its missing ancestors as persistent nodes.
func ensurePath(ctx context.Context, c *client.Client, path string) error {
	if err := znode.ValidatePath(path); err != nil {
		return fmt.Errorf("recipe: %w", err)
	}
	if path == "/" {
		return nil
	}
	for i := 1; i <= len(path); i++ {
		if i < len(path) && path[i] != '/' {
			continue
		}
		_, _, err := c.Create(ctx, path[:i], nil, client.CreateOptions{})
		if err != nil && !errors.Is(err, client.ErrNodeExists) {
			return fmt.Errorf("recipe: creating %s: %w", path[:i], err)
		}
	}
	return nil
}
