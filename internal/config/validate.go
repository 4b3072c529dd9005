package config

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// knownFourLetterWords are the commands ZooKeeper 3.9 recognises on a fresh
// connection. Whether zkx answers each one is the server's business; the
// configuration only refuses words that are not commands at all.
var knownFourLetterWords = []string{
	"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
	"mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs",
}

// knownBackends are the storage backends zkx has. A build may lack some of
// them; cmd/zkx decides whether the selected one can be opened.
var knownBackends = []string{"memory", "badger"}

// diskBackends keep files in storage.data_dir.
var diskBackends = []string{"badger"}

// minMaxBuffer is the smallest accepted max_buffer: below it even a connect
// request with a password and a modest path would not fit.
const minMaxBuffer = 1024

// maxWireMillis is the largest timeout the protocol can carry: session
// timeouts travel as a signed 32-bit count of milliseconds.
const maxWireMillis = math.MaxInt32 * time.Millisecond

// Validate checks every key of c and returns one *FieldError per problem,
// joined with errors.Join, or nil when c is usable as is.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Problem: fmt.Sprintf(format, args...)})
	}

	if err := checkListen(c.Listen); err != nil {
		bad("listen", "%v", err)
	}
	if c.Debug.PprofListen != "" {
		if err := checkListen(c.Debug.PprofListen); err != nil {
			bad("debug.pprof_listen", "%v", err)
		}
	}

	switch {
	case c.TickTime <= 0:
		bad("tick_time", "must be positive, got %v", c.TickTime)
	case c.TickTime < time.Millisecond:
		bad("tick_time", "must be at least 1ms (sessions are timed in milliseconds), got %v", c.TickTime)
	}
	if c.MinSessionTimeout < 0 {
		bad("min_session_timeout", "must not be negative (use 0 or \"\" for 2*tick_time), got %v", c.MinSessionTimeout)
	}
	if c.MaxSessionTimeout < 0 {
		bad("max_session_timeout", "must not be negative (use 0 or \"\" for 20*tick_time), got %v", c.MaxSessionTimeout)
	}
	if c.TickTime > 0 && c.MinSessionTimeout >= 0 && c.MaxSessionTimeout >= 0 {
		lo, hi := c.SessionTimeouts()
		if lo > hi {
			bad("min_session_timeout", "effective value %v exceeds max_session_timeout %v", lo, hi)
		}
		if hi > maxWireMillis {
			bad("max_session_timeout", "effective value %v exceeds the protocol's limit of %v", hi, maxWireMillis)
		}
	}

	if c.MaxBuffer < minMaxBuffer || c.MaxBuffer > math.MaxInt32 {
		bad("max_buffer", "must be between %d and %d bytes, got %d", minMaxBuffer, math.MaxInt32, c.MaxBuffer)
	}
	if c.MaxOutbound < c.MaxBuffer {
		bad("max_outbound", "must be at least max_buffer (%d bytes) so one full-size reply fits, got %d", c.MaxBuffer, c.MaxOutbound)
	}

	for i, w := range c.FourLetterWords {
		if w == "*" {
			if len(c.FourLetterWords) > 1 {
				bad("four_letter_words", "\"*\" enables every word and must be the only entry")
			}
			continue
		}
		if !slices.Contains(knownFourLetterWords, w) {
			bad("four_letter_words", "item %d: %q is not a four-letter word (known: %s, or \"*\")", i, w, strings.Join(knownFourLetterWords, ", "))
		}
	}

	if c.SuperDigest != "" {
		if err := checkSuperDigest(c.SuperDigest); err != nil {
			bad("super_digest", "%v", err)
		}
	}

	if c.Container.CheckInterval <= 0 {
		bad("container.check_interval", "must be positive, got %v", c.Container.CheckInterval)
	}
	if c.Container.MaxNeverUsed < 0 {
		bad("container.max_never_used", "must not be negative (0 disables it), got %v", c.Container.MaxNeverUsed)
	}
	for key, v := range map[string]int{
		"storage.badger.memtable_size":    c.Storage.Badger.MemTableSize,
		"storage.badger.block_cache_size": c.Storage.Badger.BlockCacheSize,
		"storage.badger.index_cache_size": c.Storage.Badger.IndexCacheSize,
	} {
		if v < 1<<20 {
			bad(key, "must be at least 1 MiB (1048576), got %d", v)
		}
	}
	if c.Storage.ChangeLog.MaxEvents <= 0 {
		bad("storage.changelog.max_events", "must be positive, got %d", c.Storage.ChangeLog.MaxEvents)
	}
	if c.Storage.ChangeLog.MaxBytes < 1<<20 {
		bad("storage.changelog.max_bytes", "must be at least 1 MiB, got %d", c.Storage.ChangeLog.MaxBytes)
	}
	if c.Storage.ChangeLog.MaxAge <= 0 {
		bad("storage.changelog.max_age", "must be positive, got %v", c.Storage.ChangeLog.MaxAge)
	}
	if c.Replay.MaxEvents <= 0 {
		bad("replay.max_events", "must be positive, got %d", c.Replay.MaxEvents)
	}
	if c.Replay.MaxBytes < 1024 {
		bad("replay.max_bytes", "must be at least 1024, got %d", c.Replay.MaxBytes)
	}
	if c.Container.MaxPerMinute <= 0 {
		bad("container.max_per_minute", "must be positive, got %d", c.Container.MaxPerMinute)
	}

	if !slices.Contains(knownBackends, c.Storage.Backend) {
		bad("storage.backend", "unknown backend %q (known: %s)", c.Storage.Backend, strings.Join(knownBackends, ", "))
	}
	if slices.Contains(diskBackends, c.Storage.Backend) && strings.TrimSpace(c.Storage.DataDir) == "" {
		bad("storage.data_dir", "must be set for the %s backend", c.Storage.Backend)
	}

	if !slices.Contains([]string{"debug", "info", "warn", "error"}, strings.ToLower(c.Log.Level)) {
		bad("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "want text or json, got %q", c.Log.Format)
	}
	c.validateNotify(bad)
	c.validateNotifiers(bad)
	c.validateEnsemble(bad)
	if c.Debug.ApplyDelay < 0 {
		bad("debug.apply_delay", "must not be negative, got %v", c.Debug.ApplyDelay)
	}

	return errors.Join(errs...)
}

// checkListen accepts host:port with a numeric port; an empty host means
// every interface and port 0 picks a free port.
func checkListen(addr string) error {
	if addr == "" {
		return errors.New("must be set, e.g. \"0.0.0.0:2181\"")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port, got %q", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port must be a number from 0 to 65535, got %q", port)
	}
	return nil
}

// checkSuperDigest accepts "user:digest" where digest is the standard
// base64 of a SHA-1 sum, as printed by ZooKeeper's DigestAuthenticationProvider.
func checkSuperDigest(s string) error {
	user, digest, ok := strings.Cut(s, ":")
	if !ok || user == "" || digest == "" {
		return errors.New("want \"user:BASE64(SHA1(user:password))\", e.g. \"super:...\"")
	}
	sum, err := base64.StdEncoding.DecodeString(digest)
	if err != nil || len(sum) != sha1.Size {
		return fmt.Errorf("the part after %q must be the base64 of a %d-byte SHA-1 sum", user+":", sha1.Size)
	}
	return nil
}
