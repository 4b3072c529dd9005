package notifier

import (
	"context"
	"fmt"
	"time"
)

// EventType is what happened to a node.
type EventType int32

// The event types. The numbers of the four node events are ZooKeeper's
// watch event types.
const (
	// EventCreated: the node was created. Data holds its value when the
	// plugin asked for data.
	EventCreated EventType = 1
	// EventDeleted: the node was deleted.
	EventDeleted EventType = 2
	// EventDataChanged: the node's value was set. Data holds the new
	// value when the plugin asked for data.
	EventDataChanged EventType = 3
	// EventChildrenChanged: a child of the node was created or deleted.
	EventChildrenChanged EventType = 4
	// EventGap: events with zxids GapStart..GapEnd (inclusive) may have
	// been missed. Zxid equals GapEnd; Path is empty.
	EventGap EventType = 100
)

func (t EventType) String() string {
	switch t {
	case EventCreated:
		return "created"
	case EventDeleted:
		return "deleted"
	case EventDataChanged:
		return "data"
	case EventChildrenChanged:
		return "children"
	case EventGap:
		return "gap"
	}
	return fmt.Sprintf("EventType(%d)", int32(t))
}

// Event is one change to one node of a zkx server.
type Event struct {
	Type EventType
	// Path is the node's absolute path, e.g. "/app/config".
	Path string
	// Zxid is the id of the transaction that made the change. Events
	// arrive in increasing zxid order; one transaction may produce
	// several events with the same zxid.
	Zxid int64
	// Time is the transaction's time (millisecond precision).
	Time time.Time
	// Version is the node's data version after the change; for
	// EventChildrenChanged, the node's child version.
	Version int32
	// Data is the node's value after EventCreated and EventDataChanged,
	// when the plugin is configured with include_data; nil otherwise.
	Data []byte
	// HasData tells an empty value (HasData true, Data empty) from a value
	// that was not sent.
	HasData bool
	// GapStart and GapEnd bound the zxids an EventGap may have missed.
	GapStart, GapEnd int64
}

func (e Event) String() string {
	if e.Type == EventGap {
		return fmt.Sprintf("gap zxid %d..%d", e.GapStart, e.GapEnd)
	}
	return fmt.Sprintf("%s %s zxid=%d version=%d", e.Type, e.Path, e.Zxid, e.Version)
}

// Notifier is what every plugin implements.
type Notifier interface {
	// Notify handles one batch of events, in zxid order. A nil error
	// acknowledges the batch; an error makes zkx retry the same batch.
	// ctx ends when zkx gives up on the call (its notify timeout) or
	// shuts down; a plugin that ignores it is killed and restarted.
	Notify(ctx context.Context, events []Event) error
}

// Config is what zkx tells a Configurer about its configuration entry.
// Plugin-specific settings travel as command-line arguments (args in
// config.yaml), which the plugin parses itself.
type Config struct {
	// Name is the notifier's name in config.yaml.
	Name string
	// Paths are the subtrees the plugin receives events for.
	Paths []string
	// Events are the event types it receives ("created", "deleted",
	// "data", "children").
	Events []string
	// IncludeData reports whether events carry node values.
	IncludeData bool
}

// Configurer is implemented by plugins that want their configuration.
// Configure is called once per process start, before the first Notify; an
// error fails the start and is reported by zkx.
type Configurer interface {
	Configure(ctx context.Context, cfg Config) error
}

// HealthChecker is implemented by plugins that can tell whether they are
// able to deliver (for example, whether their downstream is reachable).
// A non-nil error is shown in zkx's status for the plugin; it does not
// stop delivery.
type HealthChecker interface {
	Health(ctx context.Context) error
}
