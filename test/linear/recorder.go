package linear

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// Never is the return time of an operation whose outcome is unknown: after every other.
const Never int64 = math.MaxInt64

// Recorder collects a history of operations from concurrent clients. Times are nanoseconds
// on the monotonic clock since NewRecorder.
//
// Recorder is safe for concurrent use.
type Recorder struct {
	start time.Time

	mu    sync.Mutex
	ops   []porcupine.Operation
	known int // operations with a known outcome
	stats map[string]int
}

// NewRecorder returns an empty Recorder whose clock starts now.
func NewRecorder() *Recorder {
	return &Recorder{start: time.Now(), stats: map[string]int{}}
}

func (r *Recorder) now() int64 { return int64(time.Since(r.start)) }

// Call is one operation in progress, from Recorder.Begin. End it with exactly one of Done,
// Unknown or Discard.
type Call struct {
	r      *Recorder
	client int
	in     Input
	note   string
	call   int64

	mu    sync.Mutex
	ended bool
}

// Begin records that client (a small non-negative number, one per client: porcupine's
// visualization has one row per client) starts operation in now. Call it before the
// operation's first request (the sync of a synced read) is sent. note is shown with the
// operation in the visualization (e.g. the member the client uses).
func (r *Recorder) Begin(client int, in Input, note string) *Call {
	return &Call{r: r, client: client, in: in, note: note, call: r.now()}
}

func (c *Call) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		panic(fmt.Sprintf("linear: operation %s ended twice", Describe(c.in, Output{})))
	}
	c.ended = true
}

// Done records that the operation returned out now. out.Unknown must be false.
func (c *Call) Done(out Output) {
	c.end()
	if out.Unknown {
		panic("linear: Done with an unknown output; use Unknown")
	}
	ret := c.r.now()
	c.r.add(porcupine.Operation{ClientId: c.client, Input: c.in, Call: c.call, Output: out, Return: ret, Metadata: c.note}, c.stat(out))
}

// Unknown records that the operation's outcome is unknown (err is why): a Write or CAS is
// kept with return time Never, since it may take effect at any later moment; a Read is
// dropped, since it constrains nothing.
func (c *Call) Unknown(err error) {
	c.end()
	msg := "unknown"
	if err != nil {
		msg = err.Error()
	}
	if c.in.Kind == Read {
		c.r.count(c.in.Kind.String() + " lost")
		return
	}
	out := Output{Unknown: true, Err: msg}
	c.r.add(porcupine.Operation{ClientId: c.client, Input: c.in, Call: c.call, Output: out, Return: Never, Metadata: c.note}, c.stat(out))
}

// Discard drops an operation that certainly had no effect: it was never sent, or it is a
// read that failed.
func (c *Call) Discard() {
	c.end()
	c.r.count(c.in.Kind.String() + " discarded")
}

func (c *Call) stat(out Output) string {
	switch {
	case out.Unknown:
		return c.in.Kind.String() + " unknown"
	case out.NoNode:
		return c.in.Kind.String() + " nonode"
	case out.BadVersion:
		return c.in.Kind.String() + " refused"
	default:
		return c.in.Kind.String() + " ok"
	}
}

func (r *Recorder) add(op porcupine.Operation, stat string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, op)
	if op.Return != Never {
		r.known++
	}
	r.stats[stat]++
}

func (r *Recorder) count(stat string) {
	r.mu.Lock()
	r.stats[stat]++
	r.mu.Unlock()
}

// History returns a copy of the operations recorded so far, in the order they ended.
func (r *Recorder) History() []porcupine.Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// Known is the number of operations recorded with a known outcome so far.
func (r *Recorder) Known() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.known
}

// Summary counts the operations by kind and outcome, e.g.
// "cas ok 40, cas refused 31, read ok 160, write ok 80, write unknown 2".
func (r *Recorder) Summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]string, 0, len(r.stats))
	for k := range r.stats {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", k, r.stats[k])
	}
	return s
}
