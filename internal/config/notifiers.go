package config

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// Notifier is one entry of the notifiers list: a plugin process that
// receives the server's watch events. See config.yaml for each key.
type Notifier struct {
	// Name identifies the plugin in logs and names its ack file.
	Name string `koanf:"name"`
	// Command is the plugin executable and Args its arguments.
	Command string   `koanf:"command"`
	Args    []string `koanf:"args"`
	// Paths are the subtrees delivered (whole segments); "/" is all.
	Paths []string `koanf:"paths"`
	// Events are the types delivered: created, deleted, data, children.
	Events []string `koanf:"events"`
	// IncludeData sends node values with created and data events.
	IncludeData bool `koanf:"include_data"`
	// SHA256 pins the executable's checksum (hex); empty does not check.
	SHA256 string `koanf:"sha256"`
	// QueueEvents bounds the plugin's queue; 0 is the default (10000).
	QueueEvents int `koanf:"queue_events"`
	// BatchSize caps the events per call; 0 is the default (256).
	BatchSize int `koanf:"batch_size"`
	// BatchDelay is the wait for a batch to fill; 0 is the default (20ms).
	BatchDelay time.Duration `koanf:"batch_delay"`
}

// Notify holds the tunables of the notifier host, which apply to every
// plugin. See config.yaml for each key's default and reason.
type Notify struct {
	// StartTimeout bounds a plugin's launch, handshake and configuration.
	StartTimeout time.Duration `koanf:"start_timeout"`
	// NotifyTimeout bounds one delivery call; a plugin that does not
	// answer in time is killed and restarted.
	NotifyTimeout time.Duration `koanf:"notify_timeout"`
	// MinBackoff and MaxBackoff bound the doubling delay between restarts
	// of a crashing plugin and retries of a batch it refused.
	MinBackoff time.Duration `koanf:"min_backoff"`
	MaxBackoff time.Duration `koanf:"max_backoff"`
	// MaxFailures is how many failed starts or crashes in a row put a
	// plugin in the failed state.
	MaxFailures int `koanf:"max_failures"`
	// HealthInterval is how often an idle plugin's health is asked.
	HealthInterval time.Duration `koanf:"health_interval"`
	// RetryFailedAfter is how long a failed plugin waits before it is
	// started again from scratch; 0 never starts it again.
	RetryFailedAfter time.Duration `koanf:"retry_failed_after"`
}

var notifiersType = reflect.TypeFor[[]Notifier]()

// notifierEvents are the accepted event type names.
var notifierEvents = []string{"created", "deleted", "data", "children"}

var notifierNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// toNotifiers decodes the notifiers list from YAML.
func toNotifiers(raw any) ([]Notifier, error) {
	out, err := toMappings[Notifier]("notifiers", raw)
	// An empty list means the default, as an absent one does.
	for i := range out {
		n := &out[i]
		for _, l := range []*[]string{&n.Args, &n.Paths, &n.Events} {
			if len(*l) == 0 {
				*l = nil
			}
		}
	}
	return out, err
}

// flatNotifiers renders the list for YAML output.
func flatNotifiers(ns []Notifier) []any {
	out := make([]any, len(ns))
	for i, n := range ns {
		out[i] = map[string]any{
			"name":         n.Name,
			"command":      n.Command,
			"args":         append([]string{}, n.Args...),
			"paths":        append([]string{}, n.Paths...),
			"events":       append([]string{}, n.Events...),
			"include_data": n.IncludeData,
			"sha256":       n.SHA256,
			"queue_events": n.QueueEvents,
			"batch_size":   n.BatchSize,
			"batch_delay":  formatDuration(n.BatchDelay),
		}
	}
	return out
}

// validateNotify reports each problem of the notify section.
func (c Config) validateNotify(bad func(key, format string, args ...any)) {
	n := c.Notify
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"notify.start_timeout", n.StartTimeout},
		{"notify.notify_timeout", n.NotifyTimeout},
		{"notify.min_backoff", n.MinBackoff},
		{"notify.max_backoff", n.MaxBackoff},
		{"notify.health_interval", n.HealthInterval},
	} {
		if d.v <= 0 {
			bad(d.key, "must be positive, got %v", d.v)
		}
	}
	if n.MinBackoff > 0 && n.MaxBackoff > 0 && n.MinBackoff > n.MaxBackoff {
		bad("notify.min_backoff", "must not exceed notify.max_backoff (%v), got %v", n.MaxBackoff, n.MinBackoff)
	}
	if n.MaxFailures < 1 {
		bad("notify.max_failures", "must be at least 1, got %d", n.MaxFailures)
	}
	if n.RetryFailedAfter < 0 {
		bad("notify.retry_failed_after", "must not be negative (use \"0s\" to never start a failed plugin again on its own), got %v", n.RetryFailedAfter)
	}
}

// validateNotifiers reports each problem of the notifiers list under its
// key, e.g. notifiers[0].command.
func (c Config) validateNotifiers(bad func(key, format string, args ...any)) {
	seen := map[string]int{}
	for i, n := range c.Notifiers {
		key := func(k string) string { return fmt.Sprintf("notifiers[%d].%s", i, k) }
		if !notifierNameRE.MatchString(n.Name) {
			bad(key("name"), "want 1-64 letters, digits, '-' or '_', starting with a letter or digit, got %q", n.Name)
		} else if j, dup := seen[n.Name]; dup {
			bad(key("name"), "%q is already the name of notifiers[%d]", n.Name, j)
		}
		seen[n.Name] = i
		if strings.TrimSpace(n.Command) == "" {
			bad(key("command"), "is required")
		}
		for _, p := range n.Paths {
			if err := znode.ValidatePath(p); err != nil {
				bad(key("paths"), "%q: %v", p, err)
			}
		}
		for _, e := range n.Events {
			if !slices.Contains(notifierEvents, e) {
				bad(key("events"), "unknown event type %q (want %s)", e, strings.Join(notifierEvents, ", "))
			}
		}
		if n.SHA256 != "" {
			if b, err := hex.DecodeString(n.SHA256); err != nil || len(b) != 32 {
				bad(key("sha256"), "want 64 hex digits (sha256sum's output), got %q", n.SHA256)
			}
		}
		if n.QueueEvents < 0 {
			bad(key("queue_events"), "must not be negative, got %d", n.QueueEvents)
		}
		if n.BatchSize < 0 {
			bad(key("batch_size"), "must not be negative, got %d", n.BatchSize)
		}
		if n.BatchDelay < 0 {
			bad(key("batch_delay"), "must not be negative, got %v", n.BatchDelay)
		}
	}
}
