package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNotifiers(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     []string
		want    []Notifier
		wantErr []string
	}{
		{
			name: "full entry",
			yaml: `
notifiers:
  - name: audit
    command: ./bin/zkx-notifier-log
    args: ["--out", "audit.jsonl"]
    paths: ["/app"]
    events: [created, deleted, data, children]
    include_data: true
    sha256: "` + strings.Repeat("ab", 32) + `"
    queue_events: 500
    batch_size: 10
    batch_delay: 5ms
`,
			want: []Notifier{{Name: "audit", Command: "./bin/zkx-notifier-log", Args: []string{"--out", "audit.jsonl"},
				Paths: []string{"/app"}, Events: []string{"created", "deleted", "data", "children"}, IncludeData: true,
				SHA256: strings.Repeat("ab", 32), QueueEvents: 500, BatchSize: 10, BatchDelay: 5 * time.Millisecond}},
		},
		{
			name: "minimal entries",
			yaml: "notifiers:\n  - {name: a, command: x}\n  - {name: b, command: y}\n",
			want: []Notifier{{Name: "a", Command: "x"}, {Name: "b", Command: "y"}},
		},
		{name: "empty list", yaml: "notifiers: []\n", want: nil},
		{name: "unknown key with suggestion", yaml: "notifiers:\n  - {name: a, comand: x}\n",
			wantErr: []string{`unknown key "comand" (did you mean command?)`}},
		{name: "not a list", yaml: "notifiers: {name: a}\n", wantErr: []string{"notifiers.name: unknown key"}},
		{name: "bad values", yaml: `
notifiers:
  - {name: "a b", command: "", paths: ["app"], events: [changed], sha256: "xyz", queue_events: -1}
  - {name: dup, command: x}
  - {name: dup, command: x}
`, wantErr: []string{
			"notifiers[0].name: want 1-64 letters",
			"notifiers[0].command: is required",
			`notifiers[0].paths: "app"`,
			`notifiers[0].events: unknown event type "changed"`,
			"notifiers[0].sha256: want 64 hex digits",
			"notifiers[0].queue_events: must not be negative",
			`notifiers[2].name: "dup" is already the name of notifiers[1]`,
		}},
		{name: "not from the environment", yaml: "", env: []string{"ZKX_NOTIFIERS=a"},
			wantErr: []string{"set notifiers in the configuration file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			os.WriteFile(path, []byte("storage: {backend: memory}\n"+tt.yaml), 0o644)
			cfg, err := Load(path, tt.env, nil)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Notifiers, tt.want) {
				t.Errorf("got %+v\nwant %+v", cfg.Notifiers, tt.want)
			}
			// What check-config prints loads back to the same list.
			out, err := cfg.YAML()
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(path, out, 0o644)
			again, err := Load(path, nil, nil)
			if err != nil {
				t.Fatalf("reload of\n%s: %v", out, err)
			}
			if !reflect.DeepEqual(again.Notifiers, tt.want) {
				t.Errorf("round trip: %+v", again.Notifiers)
			}
		})
	}
}
