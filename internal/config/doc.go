// Package config turns zkx's user-facing configuration into one validated
// value. It is the only zkx package that imports koanf.
//
// # Layers
//
// A Config is built from four layers, each overriding the one before it key
// by key:
//
//  1. built-in defaults (Default);
//  2. a YAML file, only when a path is given. `zkx serve` without --config
//     does not look for ./config.yaml or any other implicit file: what runs
//     is exactly what the command line names, never what happens to sit in
//     the working directory;
//  3. environment variables with the ZKX_ prefix;
//  4. command-line flags that were explicitly set.
//
// Within one layer a key that is absent, or present with an empty YAML value
// (`super_digest:` with nothing after it), leaves the lower layer's value in
// place. A list replaces the lower layer's list as a whole.
//
// # Keys
//
// Keys are snake_case and nested in sections: storage.backend,
// container.check_interval, log.level. Durations are Go duration strings
// ("2s", "200ms", "1m"); a bare number is refused because it has no unit.
// Sizes are integers counting bytes. Lists may be YAML lists or, in the
// environment and on the command line, comma-separated strings.
//
// Each key has exactly one environment variable: ZKX_ followed by the key
// upper-cased with dots turned into underscores. The mapping is a table built
// from the known keys rather than a rule that splits on underscores, so
// ZKX_MAX_SESSION_TIMEOUT is max_session_timeout while ZKX_STORAGE_DATA_DIR
// is storage.data_dir.
//
// # Errors
//
// Typos are errors, not silently ignored settings: an unknown key in the
// file, or an unknown ZKX_ variable, fails the load and names the key (with
// a suggestion when a known key is close). A value of the wrong type names
// its key, its source and what was expected. Each such problem is a
// *FieldError, and Load joins all of them with errors.Join so one run of
// `zkx check-config` shows every typo and type error in every layer. Range
// and consistency checks (Validate) run once every value has decoded; a file
// that cannot be read or parsed as YAML stops the load at once.
//
// # What this package does not do
//
// It does not build server.Options or open storage: it produces plain
// validated values, and cmd/zkx wires them into the server. This keeps the
// configuration free of the server's dependencies. For the same reason the
// storage backend name is checked here only against the names zkx knows;
// whether this build can open that backend is decided by cmd/zkx, which owns
// the table of backend openers.
//
// # Concurrency
//
// Config is a plain value. Load, Default and the methods of Config share no
// state and are safe to call from any goroutine.
package config
