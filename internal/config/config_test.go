package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeConfig writes content to a config.yaml in a fresh temporary
// directory and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fieldErrors flattens the *FieldErrors joined in err.
func fieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		if joined, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range joined.Unwrap() {
				walk(inner)
			}
			return
		}
		var fe *FieldError
		if errors.As(e, &fe) {
			out = append(out, fe)
		}
	}
	walk(err)
	return out
}

// wantFieldError fails unless err holds a FieldError for key whose message
// contains every one of parts.
func wantFieldError(t *testing.T, err error, key string, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one for %s", key)
	}
	for _, fe := range fieldErrors(err) {
		if fe.Key != key {
			continue
		}
		msg := fe.Error()
		ok := true
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				ok = false
			}
		}
		if ok {
			return
		}
	}
	t.Fatalf("no error for %s containing %q in:\n%v", key, parts, err)
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestLoadNothingGivesDefault(t *testing.T) {
	got, err := Load("", []string{"HOME=/root", "PATH=/bin"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Fatalf("Load with no sources = %+v, want Default() %+v", got, Default())
	}
}

// TestPrecedence checks default < file < environment < flag for each key:
// every layer that sets the key overrides the layers below it, and a layer
// that does not set it leaves the value alone.
func TestPrecedence(t *testing.T) {
	tests := []struct {
		key                          string
		get                          func(Config) any
		file, env                    string // YAML value, environment value
		flag                         any
		wantFile, wantEnv, wantFlags any
	}{
		{
			key: "listen", get: func(c Config) any { return c.Listen },
			file: `"127.0.0.1:1000"`, env: "127.0.0.1:2000", flag: "127.0.0.1:0",
			wantFile: "127.0.0.1:1000", wantEnv: "127.0.0.1:2000", wantFlags: "127.0.0.1:0",
		},
		{
			key: "tick_time", get: func(c Config) any { return c.TickTime },
			file: `"1s"`, env: "500ms", flag: "3s",
			wantFile: time.Second, wantEnv: 500 * time.Millisecond, wantFlags: 3 * time.Second,
		},
		{
			key: "max_session_timeout", get: func(c Config) any { return c.MaxSessionTimeout },
			file: `"30s"`, env: "60s", flag: 90 * time.Second,
			wantFile: 30 * time.Second, wantEnv: time.Minute, wantFlags: 90 * time.Second,
		},
		{
			key: "max_buffer", get: func(c Config) any { return c.MaxBuffer },
			file: `4096`, env: "8192", flag: "16384",
			wantFile: 4096, wantEnv: 8192, wantFlags: 16384,
		},
		{
			key: "four_letter_words", get: func(c Config) any { return c.FourLetterWords },
			file: `[ruok]`, env: "ruok, mntr", flag: "srvr",
			wantFile: []string{"ruok"}, wantEnv: []string{"ruok", "mntr"}, wantFlags: []string{"srvr"},
		},
		{
			key: "extended_types", get: func(c Config) any { return c.ExtendedTypes },
			file: `true`, env: "false", flag: "true",
			wantFile: true, wantEnv: false, wantFlags: true,
		},
		{
			key: "container.max_per_minute", get: func(c Config) any { return c.Container.MaxPerMinute },
			file: `100`, env: "200", flag: 300,
			wantFile: 100, wantEnv: 200, wantFlags: 300,
		},
		{
			key: "storage.data_dir", get: func(c Config) any { return c.Storage.DataDir },
			file: `/file`, env: "/env", flag: "/flag",
			wantFile: "/file", wantEnv: "/env", wantFlags: "/flag",
		},
		{
			key: "storage.sync", get: func(c Config) any { return c.Storage.Sync },
			file: `false`, env: "true", flag: false,
			wantFile: false, wantEnv: true, wantFlags: false,
		},
		{
			key: "notify.retry_failed_after", get: func(c Config) any { return c.Notify.RetryFailedAfter },
			file: `"10m"`, env: "0s", flag: "1h",
			wantFile: 10 * time.Minute, wantEnv: time.Duration(0), wantFlags: time.Hour,
		},
		{
			key: "notify.max_failures", get: func(c Config) any { return c.Notify.MaxFailures },
			file: `3`, env: "5", flag: 7,
			wantFile: 3, wantEnv: 5, wantFlags: 7,
		},
		{
			key: "log.level", get: func(c Config) any { return c.Log.Level },
			file: `warn`, env: "error", flag: "debug",
			wantFile: "warn", wantEnv: "error", wantFlags: "debug",
		},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			// The YAML for a dotted key, nested under its section.
			yamlDoc := tc.key + ": " + tc.file + "\n"
			if section, leaf, ok := strings.Cut(tc.key, "."); ok {
				yamlDoc = section + ":\n  " + leaf + ": " + tc.file + "\n"
			}
			path := writeConfig(t, yamlDoc)
			env := []string{envName(tc.key) + "=" + tc.env}
			flags := map[string]any{tc.key: tc.flag}

			stages := []struct {
				name  string
				path  string
				env   []string
				flags map[string]any
				want  any
			}{
				{"default", "", nil, nil, tc.get(Default())},
				{"file over default", path, nil, nil, tc.wantFile},
				{"env over file", path, env, nil, tc.wantEnv},
				{"flag over env", path, env, flags, tc.wantFlags},
				{"env without file", "", env, nil, tc.wantEnv},
				{"flag without env", path, nil, flags, tc.wantFlags},
			}
			for _, st := range stages {
				got, err := Load(st.path, st.env, st.flags)
				if err != nil {
					t.Fatalf("%s: Load: %v", st.name, err)
				}
				if !reflect.DeepEqual(tc.get(got), st.want) {
					t.Errorf("%s: %s = %#v, want %#v", st.name, tc.key, tc.get(got), st.want)
				}
			}
		})
	}
}

func TestLayerLeavesOtherKeysAlone(t *testing.T) {
	path := writeConfig(t, "storage:\n  backend: memory\n")
	got, err := Load(path, []string{"ZKX_LOG_FORMAT=json"}, map[string]any{"listen": "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Storage.Backend = "memory"
	want.Log.Format = "json"
	want.Listen = "127.0.0.1:0"
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestEnvMapping(t *testing.T) {
	tests := []struct {
		name string
		env  string
		get  func(Config) any
		want any
	}{
		{"top-level key with underscores", "ZKX_MAX_SESSION_TIMEOUT=1m", func(c Config) any { return c.MaxSessionTimeout }, time.Minute},
		{"top-level list", "ZKX_FOUR_LETTER_WORDS=ruok,srvr", func(c Config) any { return c.FourLetterWords }, []string{"ruok", "srvr"}},
		{"empty list", "ZKX_FOUR_LETTER_WORDS=", func(c Config) any { return c.FourLetterWords }, []string{}},
		{"storage section, key with underscore", "ZKX_STORAGE_DATA_DIR=/var/lib/zkx", func(c Config) any { return c.Storage.DataDir }, "/var/lib/zkx"},
		{"storage section", "ZKX_STORAGE_BACKEND=memory", func(c Config) any { return c.Storage.Backend }, "memory"},
		{"container section", "ZKX_CONTAINER_MAX_NEVER_USED=5m", func(c Config) any { return c.Container.MaxNeverUsed }, 5 * time.Minute},
		{"container section int", "ZKX_CONTAINER_MAX_PER_MINUTE=7", func(c Config) any { return c.Container.MaxPerMinute }, 7},
		{"replay section bool", "ZKX_REPLAY_ENABLED=false", func(c Config) any { return c.Replay.Enabled }, false},
		{"nested section", "ZKX_STORAGE_CHANGELOG_MAX_AGE=1h", func(c Config) any { return c.Storage.ChangeLog.MaxAge }, time.Hour},
		{"notify section", "ZKX_NOTIFY_NOTIFY_TIMEOUT=5s", func(c Config) any { return c.Notify.NotifyTimeout }, 5 * time.Second},
		{"notify retry off", "ZKX_NOTIFY_RETRY_FAILED_AFTER=0s", func(c Config) any { return c.Notify.RetryFailedAfter }, time.Duration(0)},
		{"log section", "ZKX_LOG_FORMAT=json", func(c Config) any { return c.Log.Format }, "json"},
		{"value containing =", "ZKX_SUPER_DIGEST=super:D/InIHSb7yEEbrWz8b9l71RjZJU=", func(c Config) any { return c.SuperDigest }, "super:D/InIHSb7yEEbrWz8b9l71RjZJU="},
		{"empty min timeout means derived", "ZKX_MIN_SESSION_TIMEOUT=", func(c Config) any { return c.MinSessionTimeout }, time.Duration(0)},
		{"other variables ignored", "ZK_TICK_TIME=nonsense", func(c Config) any { return c.TickTime }, 2 * time.Second},
		{"lower-case prefix ignored", "zkx_tick_time=nonsense", func(c Config) any { return c.TickTime }, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load("", []string{tc.env}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tc.get(got), tc.want) {
				t.Fatalf("%s: got %#v, want %#v", tc.env, tc.get(got), tc.want)
			}
		})
	}
}

func TestEnvLastEntryWins(t *testing.T) {
	got, err := Load("", []string{"ZKX_LOG_LEVEL=debug", "ZKX_LOG_LEVEL=warn"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Log.Level != "warn" {
		t.Fatalf("log.level = %q, want the later entry %q", got.Log.Level, "warn")
	}
}

func TestEnvNamesAreUnique(t *testing.T) {
	seen := map[string]string{}
	for _, f := range schema {
		name := envName(f.key)
		if other, dup := seen[name]; dup {
			t.Fatalf("keys %s and %s share the variable %s", other, f.key, name)
		}
		seen[name] = f.key
	}
	if len(seen) != 47 {
		t.Fatalf("schema has %d keys, want 47 (update this test and config.yaml when adding keys)", len(seen))
	}
}

func TestUnknownEnvVariable(t *testing.T) {
	_, err := Load("", []string{"ZKX_STORAGE_BAKEND=memory"}, nil)
	wantFieldError(t, err, "ZKX_STORAGE_BAKEND", "environment", "unknown variable", "did you mean ZKX_STORAGE_BACKEND?")
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		key   string
		parts []string
	}{
		{"typo in section key", "storage:\n  bakend: memory\n", "storage.bakend", []string{"unknown key", "did you mean storage.backend?"}},
		{"typo in top-level key", "listne: \":2181\"\n", "listne", []string{"unknown key", "did you mean listen?"}},
		{"nothing close", "colour: blue\n", "colour", []string{"unknown key"}},
		{"unknown section", "metrics:\n  port: 9000\n", "metrics.port", []string{"unknown key"}},
		{"mapping under a leaf", "listen:\n  host: x\n", "listen.host", []string{"unknown key"}},
		{"scalar where a section belongs", "storage: memory\n", "storage", []string{"is a section", "backend, data_dir, sync"}},
		{"wrong case", "Listen: \":2181\"\n", "Listen", []string{"unknown key", "did you mean listen?"}},
		{"typo in notify key", "notify:\n  retry_failed_afer: 1m\n", "notify.retry_failed_afer", []string{"unknown key", "did you mean notify.retry_failed_after?"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.yaml)
			_, err := Load(path, nil, nil)
			wantFieldError(t, err, tc.key, append([]string{path}, tc.parts...)...)
		})
	}
}

func TestUnknownFlagKey(t *testing.T) {
	_, err := Load("", nil, map[string]any{"storage.bakend": "memory"})
	wantFieldError(t, err, "storage.bakend", "command line", "unknown key")
}

func TestEmptySectionAndEmptyValuesKeepLowerLayer(t *testing.T) {
	path := writeConfig(t, "log:\nstorage: {}\nsuper_digest:\ncontainer:\n  check_interval:\n")
	got, err := Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Fatalf("got %+v, want Default()", got)
	}
}

func TestEmptyFile(t *testing.T) {
	got, err := Load(writeConfig(t, ""), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Fatalf("got %+v, want Default()", got)
	}
}

func TestEmptyListIsNotDefault(t *testing.T) {
	got, err := Load(writeConfig(t, "four_letter_words: []\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.FourLetterWords == nil || len(got.FourLetterWords) != 0 {
		t.Fatalf("four_letter_words = %#v, want an empty non-nil list", got.FourLetterWords)
	}
}

func TestTypeErrors(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		env   string
		key   string
		parts []string
	}{
		{name: "bare number duration", yaml: "tick_time: 2000\n", key: "tick_time", parts: []string{"bare number 2000", "no unit"}},
		{name: "unparsable duration", yaml: "tick_time: 2 seconds\n", key: "tick_time", parts: []string{`"2 seconds"`, `"2s"`}},
		{name: "duration as list", yaml: "container:\n  check_interval: [1s]\n", key: "container.check_interval", parts: []string{"got a list"}},
		{name: "string for int", yaml: "max_buffer: big\n", key: "max_buffer", parts: []string{"whole number", `"big"`}},
		{name: "fraction for int", yaml: "max_outbound: 1.5\n", key: "max_outbound", parts: []string{"whole number", "1.5"}},
		{name: "yes is not a bool", yaml: "storage:\n  sync: yes\n", key: "storage.sync", parts: []string{"true or false", `"yes"`}},
		{name: "number for string", yaml: "listen: 2181\n", key: "listen", parts: []string{"want a string", "2181"}},
		{name: "numbers in list", yaml: "four_letter_words: [ruok, 7]\n", key: "four_letter_words", parts: []string{"item 1", "want a string"}},
		{name: "scalar number for list", yaml: "four_letter_words: 7\n", key: "four_letter_words", parts: []string{"list of strings"}},
		{name: "bad env int", env: "ZKX_MAX_BUFFER=1MiB", key: "max_buffer", parts: []string{"environment variable ZKX_MAX_BUFFER", `"1MiB"`}},
		{name: "bad env bool", env: "ZKX_EXTENDED_TYPES=on", key: "extended_types", parts: []string{"environment variable ZKX_EXTENDED_TYPES", "true or false"}},
		{name: "bad env duration", env: "ZKX_TICK_TIME=2", key: "tick_time", parts: []string{"environment variable ZKX_TICK_TIME", `"2"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.yaml != "" {
				path = writeConfig(t, tc.yaml)
			}
			var env []string
			if tc.env != "" {
				env = []string{tc.env}
			}
			_, err := Load(path, env, nil)
			wantFieldError(t, err, tc.key, tc.parts...)
			if path != "" {
				wantFieldError(t, err, tc.key, path)
			}
		})
	}
}

func TestDurationParsing(t *testing.T) {
	tests := []struct {
		yaml string
		want time.Duration
	}{
		{`"200ms"`, 200 * time.Millisecond},
		{`2s`, 2 * time.Second},
		{`1m30s`, 90 * time.Second},
		{`"1h"`, time.Hour},
		{`" 5s "`, 5 * time.Second},
		{`""`, 0},
		{`0s`, 0},
		{`0`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.yaml, func(t *testing.T) {
			got, err := Load(writeConfig(t, "container:\n  max_never_used: "+tc.yaml+"\n"), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Container.MaxNeverUsed != tc.want {
				t.Fatalf("max_never_used: %s = %v, want %v", tc.yaml, got.Container.MaxNeverUsed, tc.want)
			}
		})
	}
}

func TestLoadReportsAllProblems(t *testing.T) {
	path := writeConfig(t, "storage:\n  bakend: memory\ntick_time: 5\nlog:\n  level: loud\n")
	_, err := Load(path, []string{"ZKX_NOPE=1"}, nil)
	// Decode problems from every layer are reported together.
	wantFieldError(t, err, "storage.bakend", "unknown key")
	wantFieldError(t, err, "tick_time", "no unit")
	wantFieldError(t, err, "ZKX_NOPE", "unknown variable")
	// log.level is checked by Validate, which runs only once every value
	// decoded; a bad value it would flag is not reported yet.
	if n := len(fieldErrors(err)); n != 3 {
		t.Fatalf("got %d problems, want 3: %v", n, err)
	}
}

func TestLoadValidates(t *testing.T) {
	_, err := Load(writeConfig(t, "log:\n  level: loud\nmax_buffer: 10\n"), nil, nil)
	wantFieldError(t, err, "log.level", "loud")
	wantFieldError(t, err, "max_buffer", "between 1024")
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name string
		path string
		want string
	}{
		{"missing file", filepath.Join(t.TempDir(), "nope.yaml"), "nope.yaml"},
		{"malformed YAML", writeConfig(t, "listen: [unclosed\n"), "config.yaml"},
		{"top level is a list", writeConfig(t, "- listen\n"), "config.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load(%s) error = %v, want one naming %q", tc.path, err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	validDigest := "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
	tests := []struct {
		name   string
		modify func(*Config)
		key    string // "" means valid
		parts  []string
	}{
		{"defaults", func(*Config) {}, "", nil},
		{"listen any port", func(c *Config) { c.Listen = "127.0.0.1:0" }, "", nil},
		{"listen all interfaces", func(c *Config) { c.Listen = ":2181" }, "", nil},
		{"listen IPv6", func(c *Config) { c.Listen = "[::1]:2181" }, "", nil},
		{"listen empty", func(c *Config) { c.Listen = "" }, "listen", []string{"must be set"}},
		{"listen without port", func(c *Config) { c.Listen = "localhost" }, "listen", []string{"host:port"}},
		{"listen named port", func(c *Config) { c.Listen = "localhost:zookeeper" }, "listen", []string{"0 to 65535"}},
		{"listen port too big", func(c *Config) { c.Listen = ":65536" }, "listen", []string{"0 to 65535"}},
		{"pprof on loopback", func(c *Config) { c.Debug.PprofListen = "127.0.0.1:6060" }, "", nil},
		{"pprof without port", func(c *Config) { c.Debug.PprofListen = "localhost" }, "debug.pprof_listen", []string{"host:port"}},
		{"tick zero", func(c *Config) { c.TickTime = 0 }, "tick_time", []string{"positive"}},
		{"tick negative", func(c *Config) { c.TickTime = -time.Second }, "tick_time", []string{"positive"}},
		{"tick below a millisecond", func(c *Config) { c.TickTime = time.Microsecond }, "tick_time", []string{"1ms"}},
		{"min negative", func(c *Config) { c.MinSessionTimeout = -1 }, "min_session_timeout", []string{"negative"}},
		{"max negative", func(c *Config) { c.MaxSessionTimeout = -1 }, "max_session_timeout", []string{"negative"}},
		{"min above max", func(c *Config) { c.MinSessionTimeout, c.MaxSessionTimeout = 10*time.Second, 5*time.Second }, "min_session_timeout", []string{"10s", "5s"}},
		{"min above derived max", func(c *Config) { c.MinSessionTimeout = time.Minute }, "min_session_timeout", []string{"1m0s", "40s"}},
		{"min equal max", func(c *Config) { c.MinSessionTimeout, c.MaxSessionTimeout = 5*time.Second, 5*time.Second }, "", nil},
		{"max beyond int32 ms", func(c *Config) { c.MaxSessionTimeout = 30 * 24 * time.Hour }, "max_session_timeout", []string{"protocol"}},
		{"max_buffer too small", func(c *Config) { c.MaxBuffer = 1023 }, "max_buffer", []string{"1024", "1023"}},
		{"max_buffer minimum", func(c *Config) { c.MaxBuffer = 1024 }, "", nil},
		{"max_buffer beyond int32", func(c *Config) { c.MaxBuffer, c.MaxOutbound = 1<<31, 1<<32 }, "max_buffer", []string{"2147483647"}},
		{"max_outbound below max_buffer", func(c *Config) { c.MaxOutbound = 1 << 20 }, "max_outbound", []string{"max_buffer", "1049600"}},
		{"unknown four-letter word", func(c *Config) { c.FourLetterWords = []string{"ruok", "RUOK"} }, "four_letter_words", []string{"item 1", `"RUOK"`}},
		{"star alone", func(c *Config) { c.FourLetterWords = []string{"*"} }, "", nil},
		{"star with others", func(c *Config) { c.FourLetterWords = []string{"*", "ruok"} }, "four_letter_words", []string{"only entry"}},
		{"no four-letter words", func(c *Config) { c.FourLetterWords = []string{} }, "", nil},
		{"super digest valid", func(c *Config) { c.SuperDigest = validDigest }, "", nil},
		{"super digest without user", func(c *Config) { c.SuperDigest = "D/InIHSb7yEEbrWz8b9l71RjZJU=" }, "super_digest", []string{"user:"}},
		{"super digest not base64", func(c *Config) { c.SuperDigest = "super:not base64!" }, "super_digest", []string{"SHA-1"}},
		{"super digest wrong length", func(c *Config) { c.SuperDigest = "super:YWJj" }, "super_digest", []string{"20-byte"}},
		{"container interval zero", func(c *Config) { c.Container.CheckInterval = 0 }, "container.check_interval", []string{"positive"}},
		{"container never used negative", func(c *Config) { c.Container.MaxNeverUsed = -time.Second }, "container.max_never_used", []string{"negative"}},
		{"container per minute zero", func(c *Config) { c.Container.MaxPerMinute = 0 }, "container.max_per_minute", []string{"positive"}},
		{"replay events zero", func(c *Config) { c.Replay.MaxEvents = 0 }, "replay.max_events", []string{"positive"}},
		{"changelog events zero", func(c *Config) { c.Storage.ChangeLog.MaxEvents = 0 }, "storage.changelog.max_events", []string{"positive"}},
		{"changelog bytes tiny", func(c *Config) { c.Storage.ChangeLog.MaxBytes = 1000 }, "storage.changelog.max_bytes", []string{"1 MiB"}},
		{"badger cache tiny", func(c *Config) { c.Storage.Badger.BlockCacheSize = 1000 }, "storage.badger.block_cache_size", []string{"1 MiB"}},
		{"changelog age zero", func(c *Config) { c.Storage.ChangeLog.MaxAge = 0 }, "storage.changelog.max_age", []string{"positive"}},
		{"replay bytes tiny", func(c *Config) { c.Replay.MaxBytes = 10 }, "replay.max_bytes", []string{"at least 1024"}},
		{"replay off is valid", func(c *Config) { c.Replay.Enabled = false }, "", nil},
		{"unknown backend", func(c *Config) { c.Storage.Backend = "bolt" }, "storage.backend", []string{`"bolt"`, "memory, badger"}},
		{"badger is the default", func(c *Config) {}, "", nil},
		{"memory is a known name", func(c *Config) { c.Storage.Backend = "memory" }, "", nil},
		{"badger needs data_dir", func(c *Config) { c.Storage.Backend, c.Storage.DataDir = "badger", "" }, "storage.data_dir", []string{"badger"}},
		{"memory ignores data_dir", func(c *Config) { c.Storage.Backend, c.Storage.DataDir = "memory", "" }, "", nil},
		{"log level upper case", func(c *Config) { c.Log.Level = "DEBUG" }, "", nil},
		{"log level unknown", func(c *Config) { c.Log.Level = "verbose" }, "log.level", []string{`"verbose"`}},
		{"log level offset", func(c *Config) { c.Log.Level = "info+2" }, "log.level", []string{`"info+2"`}},
		{"log format unknown", func(c *Config) { c.Log.Format = "xml" }, "log.format", []string{`"xml"`}},
		{"notify start timeout zero", func(c *Config) { c.Notify.StartTimeout = 0 }, "notify.start_timeout", []string{"positive", "0s"}},
		{"notify timeout negative", func(c *Config) { c.Notify.NotifyTimeout = -time.Second }, "notify.notify_timeout", []string{"positive", "-1s"}},
		{"notify min backoff zero", func(c *Config) { c.Notify.MinBackoff = 0 }, "notify.min_backoff", []string{"positive"}},
		{"notify max backoff zero", func(c *Config) { c.Notify.MaxBackoff = 0 }, "notify.max_backoff", []string{"positive"}},
		{"notify min backoff above max", func(c *Config) { c.Notify.MinBackoff, c.Notify.MaxBackoff = time.Minute, time.Second },
			"notify.min_backoff", []string{"notify.max_backoff (1s)", "1m0s"}},
		{"notify min backoff equal max", func(c *Config) { c.Notify.MinBackoff, c.Notify.MaxBackoff = time.Second, time.Second }, "", nil},
		{"notify max failures zero", func(c *Config) { c.Notify.MaxFailures = 0 }, "notify.max_failures", []string{"at least 1", "0"}},
		{"notify max failures one", func(c *Config) { c.Notify.MaxFailures = 1 }, "", nil},
		{"notify health interval zero", func(c *Config) { c.Notify.HealthInterval = 0 }, "notify.health_interval", []string{"positive"}},
		{"notify retry off", func(c *Config) { c.Notify.RetryFailedAfter = 0 }, "", nil},
		{"notify retry negative", func(c *Config) { c.Notify.RetryFailedAfter = -time.Minute }, "notify.retry_failed_after", []string{"negative", `"0s"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.modify(&c)
			err := c.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			wantFieldError(t, err, tc.key, tc.parts...)
			if n := len(fieldErrors(err)); n != 1 {
				t.Fatalf("got %d problems, want exactly 1: %v", n, err)
			}
		})
	}
}

func TestSessionTimeouts(t *testing.T) {
	tests := []struct {
		name           string
		tick, min, max time.Duration
		wantMin        time.Duration
		wantMax        time.Duration
	}{
		{"derived from default tick", 2 * time.Second, 0, 0, 4 * time.Second, 40 * time.Second},
		{"derived from other tick", 500 * time.Millisecond, 0, 0, time.Second, 10 * time.Second},
		{"explicit", 2 * time.Second, time.Second, time.Hour, time.Second, time.Hour},
		{"only max explicit", 2 * time.Second, 0, time.Minute, 4 * time.Second, time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.TickTime, c.MinSessionTimeout, c.MaxSessionTimeout = tc.tick, tc.min, tc.max
			gotMin, gotMax := c.SessionTimeouts()
			if gotMin != tc.wantMin || gotMax != tc.wantMax {
				t.Fatalf("SessionTimeouts() = %v, %v; want %v, %v", gotMin, gotMax, tc.wantMin, tc.wantMax)
			}
		})
	}
}

func TestEnabledFourLetterWords(t *testing.T) {
	c := Default()
	if got := c.EnabledFourLetterWords(); !slices.Equal(got, c.FourLetterWords) {
		t.Fatalf("default words = %v, want %v", got, c.FourLetterWords)
	}
	c.FourLetterWords = []string{"*"}
	if got := c.EnabledFourLetterWords(); !slices.Equal(got, knownFourLetterWords) {
		t.Fatalf("* = %v, want every known word %v", got, knownFourLetterWords)
	}
	c.FourLetterWords = []string{}
	if got := c.EnabledFourLetterWords(); got == nil || len(got) != 0 {
		t.Fatalf("empty = %#v, want empty non-nil", got)
	}
}

func TestSlogLevel(t *testing.T) {
	for in, want := range map[string]string{"debug": "DEBUG", "INFO": "INFO", "warn": "WARN", "error": "ERROR", "bogus": "INFO"} {
		if got := (Log{Level: in}).SlogLevel().String(); got != want {
			t.Errorf("SlogLevel(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestRepoConfigFile keeps the documented config.yaml honest: it loads,
// validates, sets every key, and changes nothing from Default().
func TestRepoConfigFile(t *testing.T) {
	const path = "../../config.yaml"
	got, err := Load(path, nil, nil)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Fatalf("config.yaml differs from Default():\n got %+v\nwant %+v", got, Default())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range allKeys() {
		leaf := key[strings.LastIndex(key, ".")+1:]
		depth := strings.Count(key, ".") // each section level indents two spaces
		if !strings.Contains(string(raw), "\n"+strings.Repeat("  ", depth)+leaf+":") {
			t.Errorf("config.yaml does not document %s", key)
		}
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	c := Default()
	c.Listen = "127.0.0.1:0"
	c.Container.CheckInterval = 90 * time.Minute
	c.FourLetterWords = []string{}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"min_session_timeout: 4s", "max_session_timeout: 40s", "check_interval: 1h30m", "tick_time: 2s"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("YAML output lacks %q:\n%s", want, out)
		}
	}
	got, err := Load(writeConfig(t, string(out)), nil, nil)
	if err != nil {
		t.Fatalf("reloading YAML(): %v\n%s", err, out)
	}
	want := c
	want.MinSessionTimeout, want.MaxSessionTimeout = c.SessionTimeouts()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 200 * time.Millisecond: "200ms", 2 * time.Second: "2s", time.Minute: "1m",
		90 * time.Second: "1m30s", time.Hour: "1h", 90 * time.Minute: "1h30m", time.Hour + time.Second: "1h0m1s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
