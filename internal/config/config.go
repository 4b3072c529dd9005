package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// EnvPrefix starts every environment variable that configures zkx.
const EnvPrefix = "ZKX_"

// Config is the user-facing configuration. Field tags name the keys used in
// the YAML file; see the repository's config.yaml for each key's meaning,
// default and reason.
//
// Config is a plain value with no shared state; copies are independent
// except for the FourLetterWords slice, which callers should not mutate.
type Config struct {
	// Listen is the TCP address clients connect to.
	Listen string `koanf:"listen"`
	// TickTime is the session-expiry granularity.
	TickTime time.Duration `koanf:"tick_time"`
	// MinSessionTimeout is the lowest session timeout granted. 0 means
	// 2*TickTime; see SessionTimeouts.
	MinSessionTimeout time.Duration `koanf:"min_session_timeout"`
	// MaxSessionTimeout is the highest session timeout granted. 0 means
	// 20*TickTime; see SessionTimeouts.
	MaxSessionTimeout time.Duration `koanf:"max_session_timeout"`
	// MaxBuffer is the largest request frame, in bytes, a client may send.
	MaxBuffer int `koanf:"max_buffer"`
	// MaxOutbound is the number of bytes queued for one connection before
	// a client that does not read is disconnected.
	MaxOutbound int `koanf:"max_outbound"`
	// FourLetterWords lists the enabled four-letter-word commands; "*"
	// enables all of them. See EnabledFourLetterWords.
	FourLetterWords []string `koanf:"four_letter_words"`
	// SuperDigest, "user:BASE64(SHA1(user:password))", makes a client
	// that authenticates with that digest a superuser. Empty disables it.
	SuperDigest string `koanf:"super_digest"`
	// ExtendedTypes enables TTL nodes.
	ExtendedTypes bool `koanf:"extended_types"`

	Container Container `koanf:"container"`
	Replay    Replay    `koanf:"replay"`
	Storage   Storage   `koanf:"storage"`
	Log       Log       `koanf:"log"`
	Debug     Debug     `koanf:"debug"`
	// Notify holds the notifier host's tunables, shared by every plugin
	// in Notifiers; see notifiers.go.
	Notify Notify `koanf:"notify"`

	// Notifiers are the notifier plugins to run; see notifiers.go.
	Notifiers []Notifier `koanf:"notifiers"`

	// Ensemble makes the server a member of a replicated ensemble; see
	// ensemble.go.
	Ensemble Ensemble `koanf:"ensemble"`
}

// Container configures the reaper of empty container nodes and expired TTL
// nodes.
type Container struct {
	// CheckInterval is how often candidates are looked for.
	CheckInterval time.Duration `koanf:"check_interval"`
	// MaxNeverUsed deletes a container that never had a child once it is
	// this old. 0 disables it.
	MaxNeverUsed time.Duration `koanf:"max_never_used"`
	// MaxPerMinute caps deletions per minute.
	MaxPerMinute int `koanf:"max_per_minute"`
}

// Replay configures the window of recent events that lets a client which
// re-arms persistent or recursive watches after a disconnect receive the
// events it missed.
type Replay struct {
	// Enabled turns replay on. Off, zkx behaves like Apache ZooKeeper:
	// re-armed watches get only new events.
	Enabled bool `koanf:"enabled"`
	// MaxEvents bounds the events kept.
	MaxEvents int `koanf:"max_events"`
	// MaxBytes bounds the memory they use (paths and ACLs).
	MaxBytes int `koanf:"max_bytes"`
}

// Storage selects and configures the storage backend.
type Storage struct {
	// Backend names the backend: "memory" or "badger".
	Backend string `koanf:"backend"`
	// DataDir is where an on-disk backend keeps its files.
	DataDir string `koanf:"data_dir"`
	// Sync makes an on-disk backend fsync each commit before replying.
	Sync bool `koanf:"sync"`
	// ChangeLog bounds the durable log of watch events (badger only).
	ChangeLog ChangeLog `koanf:"changelog"`
	// Badger bounds the badger backend's memory.
	Badger Badger `koanf:"badger"`
}

// Badger bounds the memory of the badger backend: its write buffers and
// read caches. The tree itself is always in zkx's memory on top of this.
type Badger struct {
	MemTableSize   int `koanf:"memtable_size"`
	BlockCacheSize int `koanf:"block_cache_size"`
	IndexCacheSize int `koanf:"index_cache_size"`
}

// ChangeLog bounds the durable, zxid-ordered log of watch events that the
// replay window and the notifier plugins resume from after a restart. The
// oldest transactions are dropped when any bound is passed.
type ChangeLog struct {
	MaxEvents int           `koanf:"max_events"`
	MaxBytes  int           `koanf:"max_bytes"`
	MaxAge    time.Duration `koanf:"max_age"`
}

// Log configures the process logger.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `koanf:"level"`
	// Format is text or json.
	Format string `koanf:"format"`
}

// Debug configures diagnostics that are off in normal operation.
type Debug struct {
	// PprofListen, when set, is a TCP address on which Go's profiling
	// endpoints (/debug/pprof/) are served over HTTP. Empty disables it.
	PprofListen string `koanf:"pprof_listen"`
	// ApplyDelay, for tests only, makes an ensemble member apply each
	// committed entry this much later: a planted replication lag.
	ApplyDelay time.Duration `koanf:"apply_delay"`
}

// Default returns the built-in configuration: the first layer of Load and
// the values documented in config.yaml.
func Default() Config {
	return Config{
		Listen:            "0.0.0.0:2181",
		TickTime:          2 * time.Second,
		MinSessionTimeout: 0,
		MaxSessionTimeout: 0,
		// A full 1 MiB znode value plus room for the request header, the
		// path and the ACL, so a client that sends the largest value a
		// ZooKeeper client will produce is not disconnected for it.
		MaxBuffer: 1<<20 + 1<<10,
		// Sixteen full-size replies: room for a burst of large reads and
		// watch events to a slow but healthy reader, while a client that
		// has stopped reading costs at most this much memory.
		MaxOutbound: 16 << 20,
		// Read-only, cheap and safe to expose; see config.yaml for the
		// words left out and why.
		FourLetterWords: []string{"ruok", "srvr", "stat", "mntr", "conf", "isro", "wchs"},
		SuperDigest:     "",
		ExtendedTypes:   false,
		Container: Container{
			CheckInterval: 60 * time.Second,
			MaxNeverUsed:  0,
			MaxPerMinute:  10000,
		},
		Replay: Replay{
			Enabled: true,
			// Several seconds of history on a busy server, which covers a
			// client's usual reconnect; a few MiB of memory at most.
			MaxEvents: 10000,
			MaxBytes:  4 << 20,
		},
		Storage: Storage{
			// Durable by default: a restart keeps the tree and sessions.
			Backend: "badger",
			DataDir: "./data",
			Sync:    true,
			// About a day of history on a quiet server and minutes on a
			// busy one, in at most 64 MiB of disk.
			ChangeLog: ChangeLog{MaxEvents: 100000, MaxBytes: 64 << 20, MaxAge: 24 * time.Hour},
			// zkx reads from its in-memory tree, so badger's caches serve only
			// restarts and backups: small buffers keep a small server small.
			Badger: Badger{MemTableSize: 8 << 20, BlockCacheSize: 8 << 20, IndexCacheSize: 4 << 20},
		},
		Log: Log{
			Level:  "info",
			Format: "text",
		},
		// Profiling exposes the process's internals: never on by default.
		Debug: Debug{PprofListen: ""},
		// The notifier host's own defaults; config.yaml says why.
		Notify: Notify{
			StartTimeout:     10 * time.Second,
			NotifyTimeout:    30 * time.Second,
			MinBackoff:       200 * time.Millisecond,
			MaxBackoff:       30 * time.Second,
			MaxFailures:      8,
			HealthInterval:   30 * time.Second,
			RetryFailedAfter: 5 * time.Minute,
		},
		// Standalone unless members are listed. The timeouts are for a
		// LAN; see config.yaml.
		Ensemble: Ensemble{
			HeartbeatTimeout:   500 * time.Millisecond,
			ElectionTimeout:    500 * time.Millisecond,
			LeaderLeaseTimeout: 250 * time.Millisecond,
			CommitTimeout:      2 * time.Millisecond,
			SnapshotThreshold:  16384,
			SnapshotInterval:   2 * time.Minute,
			TrailingLogs:       10240,
		},
	}
}

// Load builds a Config from the built-in defaults, then the YAML file at
// path (skipped when path is ""), then the ZKX_ variables in env (entries in
// os.Environ's "KEY=value" form; other variables are ignored), then flags,
// which maps keys such as "listen" or "storage.backend" to values that were
// set explicitly on the command line. Values in flags may be strings, which
// are parsed as in the environment, or values of the key's Go type.
//
// The result is validated. On error the returned Config is the zero value
// and the error joins one *FieldError (or file error) per problem found.
func Load(path string, env []string, flags map[string]any) (Config, error) {
	cfg := Default()
	var errs []error

	if path != "" {
		k := koanf.New(".")
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return Config{}, fmt.Errorf("config: load %s: %w", path, err)
		}
		errs = append(errs, apply(&cfg, k, func(string) string { return path })...)
	}

	envMap, envErrs := envLayer(env)
	errs = append(errs, envErrs...)
	if len(envMap) > 0 {
		k := koanf.New(".")
		if err := k.Load(confmap.Provider(envMap, "."), nil); err != nil {
			return Config{}, fmt.Errorf("config: environment: %w", err)
		}
		errs = append(errs, apply(&cfg, k, func(key string) string {
			return "environment variable " + envName(key)
		})...)
	}

	if len(flags) > 0 {
		k := koanf.New(".")
		if err := k.Load(confmap.Provider(flags, "."), nil); err != nil {
			return Config{}, fmt.Errorf("config: flags: %w", err)
		}
		errs = append(errs, apply(&cfg, k, func(string) string { return "command line" })...)
	}

	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// SessionTimeouts returns the effective bounds of the negotiated session
// timeout: the configured values, or 2*TickTime and 20*TickTime for those
// left at 0, as ZooKeeper does.
func (c Config) SessionTimeouts() (minTimeout, maxTimeout time.Duration) {
	minTimeout, maxTimeout = c.MinSessionTimeout, c.MaxSessionTimeout
	if minTimeout == 0 {
		minTimeout = 2 * c.TickTime
	}
	if maxTimeout == 0 {
		maxTimeout = 20 * c.TickTime
	}
	return minTimeout, maxTimeout
}

// EnabledFourLetterWords returns the enabled four-letter words with "*"
// expanded to every known word. The result is never nil: an empty list
// means that no word was enabled beyond what the server always answers.
func (c Config) EnabledFourLetterWords() []string {
	out := make([]string, 0, len(c.FourLetterWords))
	for _, w := range c.FourLetterWords {
		if w == "*" {
			return append([]string(nil), knownFourLetterWords...)
		}
		out = append(out, w)
	}
	return out
}

// SlogLevel returns Log.Level as a slog.Level. A level that does not parse
// (Validate reports it) yields slog.LevelInfo.
func (l Log) SlogLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return slog.LevelInfo
	}
	return lv
}

// YAML renders the effective configuration as YAML, with session timeouts
// resolved and durations in Go syntax. Loading the output gives the same
// effective configuration.
func (c Config) YAML() ([]byte, error) {
	m := c.flat()
	minTimeout, maxTimeout := c.SessionTimeouts()
	m["min_session_timeout"] = formatDuration(minTimeout)
	m["max_session_timeout"] = formatDuration(maxTimeout)
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(m, "."), nil); err != nil {
		return nil, fmt.Errorf("config: render: %w", err)
	}
	b, err := k.Marshal(yaml.Parser())
	if err != nil {
		return nil, fmt.Errorf("config: render: %w", err)
	}
	return b, nil
}

// formatDuration prints d as time.Duration.String does, without the zero
// minute and second parts that make "1m0s" out of a minute.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
