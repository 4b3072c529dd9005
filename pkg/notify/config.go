package notify

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// PluginConfig describes one notifier plugin. Zero values of the tunables
// mean their defaults.
type PluginConfig struct {
	// Name identifies the plugin in logs, status and its ack file. Letters,
	// digits, '-' and '_' only; unique within a host.
	Name string
	// Command is the plugin executable; Args are its arguments.
	Command string
	Args    []string
	// Paths are the subtrees whose events the plugin receives; each
	// matches the node itself and every descendant, by whole segments
	// ("/app" matches "/app" and "/app/x", never "/apple"). "/" matches
	// everything. Empty means "/".
	Paths []string
	// Events are the event types delivered: "created", "deleted", "data"
	// and "children". Empty means all four. Gap events are always
	// delivered.
	Events []string
	// IncludeData sends node values with created and data events.
	IncludeData bool
	// SHA256, when set, pins the executable: it is hashed before every
	// start and refused when the hex digest differs.
	SHA256 string

	// QueueEvents bounds the events queued for the plugin. Default 10,000:
	// several seconds of a busy server's writes, enough to ride out a slow
	// batch or a plugin restart without falling back to the history.
	QueueEvents int
	// QueueBytes bounds the memory the queue holds (paths and, with
	// IncludeData, values). Default 16 MiB.
	QueueBytes int
	// BatchSize is the most events sent in one Notify call (a transaction
	// is never split, so a batch can exceed it by one transaction's
	// events). Default 256.
	BatchSize int
	// BatchDelay is how long the sender waits for a batch to fill once an
	// event is queued. Default 20ms: small against any network hop a
	// plugin makes, large enough to batch a burst of writes.
	BatchDelay time.Duration
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// EventNames are the configuration names of the event types, in the order
// of their znode numbers.
var EventNames = []string{"created", "deleted", "data", "children"}

func eventTypeOf(name string) (znode.EventType, bool) {
	switch name {
	case "created":
		return znode.EventNodeCreated, true
	case "deleted":
		return znode.EventNodeDeleted, true
	case "data":
		return znode.EventNodeDataChanged, true
	case "children":
		return znode.EventNodeChildrenChanged, true
	}
	return 0, false
}

// Validate reports every problem with c, joined.
func (c PluginConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("notify: plugin %q: "+format, append([]any{c.Name}, args...)...))
	}
	if !nameRE.MatchString(c.Name) {
		bad("name must be 1-64 letters, digits, '-' or '_', starting with a letter or digit")
	}
	if strings.TrimSpace(c.Command) == "" {
		bad("command is required")
	}
	for _, p := range c.Paths {
		if err := znode.ValidatePath(p); err != nil {
			bad("path %q: %v", p, err)
		}
	}
	for _, e := range c.Events {
		if _, ok := eventTypeOf(e); !ok {
			bad("unknown event type %q (want %s)", e, strings.Join(EventNames, ", "))
		}
	}
	if c.SHA256 != "" {
		if b, err := hex.DecodeString(c.SHA256); err != nil || len(b) != 32 {
			bad("sha256 must be 64 hex digits")
		}
	}
	if c.QueueEvents < 0 || c.QueueBytes < 0 || c.BatchSize < 0 || c.BatchDelay < 0 {
		bad("queue and batch limits must not be negative")
	}
	return errors.Join(errs...)
}

func (c *PluginConfig) setDefaults() {
	if len(c.Paths) == 0 {
		c.Paths = []string{"/"}
	}
	if len(c.Events) == 0 {
		c.Events = slices.Clone(EventNames)
	}
	if c.QueueEvents == 0 {
		c.QueueEvents = 10000
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = 16 << 20
	}
	if c.BatchSize == 0 {
		c.BatchSize = 256
	}
	if c.BatchDelay == 0 {
		c.BatchDelay = 20 * time.Millisecond
	}
}

// filter decides which events a plugin receives. It is immutable after
// construction.
type filter struct {
	all   bool     // a path is "/"
	paths []string // subtree roots, without "/"
	types [8]bool  // indexed by znode.EventType
}

func newFilter(c PluginConfig) filter {
	var f filter
	for _, p := range c.Paths {
		if p == "/" {
			f.all = true
		}
		f.paths = append(f.paths, p)
	}
	for _, e := range c.Events {
		if t, ok := eventTypeOf(e); ok {
			f.types[t] = true
		}
	}
	return f
}

// match reports whether ev is for the plugin.
func (f *filter) match(ev *znode.Event) bool {
	if ev.Type < 0 || int(ev.Type) >= len(f.types) || !f.types[ev.Type] {
		return false
	}
	if f.all {
		return true
	}
	for _, p := range f.paths {
		if underPath(ev.Path, p) {
			return true
		}
	}
	return false
}

// underPath reports whether path is root or inside root's subtree,
// comparing whole segments.
func underPath(path, root string) bool {
	if root == "/" {
		return true
	}
	return path == root || (len(path) > len(root) && path[len(root)] == '/' && path[:len(root)] == root)
}
