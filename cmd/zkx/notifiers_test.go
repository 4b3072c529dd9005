package main

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/internal/config"
	"github.com/zkx-dev/zkx/pkg/notify"
)

// TestNotifyOptions checks that the notify section reaches the plugin
// host: the documented defaults are the host's own, every key is mapped,
// and retry_failed_after "0s" turns retrying off.
func TestNotifyOptions(t *testing.T) {
	defaults := notify.Options{
		StartTimeout:     notify.DefaultStartTimeout,
		NotifyTimeout:    notify.DefaultNotifyTimeout,
		MinBackoff:       notify.DefaultMinBackoff,
		MaxBackoff:       notify.DefaultMaxBackoff,
		MaxFailures:      notify.DefaultMaxFailures,
		HealthInterval:   notify.DefaultHealthInterval,
		RetryFailedAfter: notify.DefaultRetryFailedAfter,
	}
	tests := []struct {
		name string
		yaml string
		want notify.Options
	}{
		{name: "defaults are the host's defaults", yaml: "", want: defaults},
		{
			name: "every key mapped",
			yaml: `
notify:
  start_timeout: 3s
  notify_timeout: 4s
  min_backoff: 50ms
  max_backoff: 5s
  max_failures: 2
  health_interval: 1m
  retry_failed_after: 30m
`,
			want: notify.Options{StartTimeout: 3 * time.Second, NotifyTimeout: 4 * time.Second, MinBackoff: 50 * time.Millisecond,
				MaxBackoff: 5 * time.Second, MaxFailures: 2, HealthInterval: time.Minute, RetryFailedAfter: 30 * time.Minute},
		},
		{
			name: "retry_failed_after 0s never retries",
			yaml: "notify:\n  retry_failed_after: 0s\n",
			want: func() notify.Options { o := defaults; o.RetryFailedAfter = -1; return o }(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir()
			path := writeConfig(t, "storage:\n  backend: memory\n  data_dir: "+dataDir+`
notifiers:
  - {name: audit, command: ./audit, paths: ["/app"], batch_size: 7}
`+tt.yaml)
			cfg, exit := (&app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}).loadConfig("serve", []string{"--config", path})
			if exit >= 0 {
				t.Fatalf("loadConfig exit %d", exit)
			}
			got := notifyOptions(cfg, nil, nil)
			checks := []struct {
				name      string
				got, want any
			}{
				{"StartTimeout", got.StartTimeout, tt.want.StartTimeout},
				{"NotifyTimeout", got.NotifyTimeout, tt.want.NotifyTimeout},
				{"MinBackoff", got.MinBackoff, tt.want.MinBackoff},
				{"MaxBackoff", got.MaxBackoff, tt.want.MaxBackoff},
				{"MaxFailures", got.MaxFailures, tt.want.MaxFailures},
				{"HealthInterval", got.HealthInterval, tt.want.HealthInterval},
				{"RetryFailedAfter", got.RetryFailedAfter, tt.want.RetryFailedAfter},
				{"DataDir", got.DataDir, filepath.Join(dataDir, "notifiers")},
				{"History (memory backend: the host's ring)", got.History, nil},
				{"plugins", len(got.Plugins), 1},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
			if p := got.Plugins[0]; p.Name != "audit" || p.Command != "./audit" || p.BatchSize != 7 || len(p.Paths) != 1 {
				t.Errorf("plugin = %+v", p)
			}
		})
	}
}

func TestNewNotifyHostWithoutNotifiers(t *testing.T) {
	h, err := newNotifyHost(config.Default(), nil, nil)
	if h != nil || err != nil {
		t.Fatalf("newNotifyHost without notifiers = %v, %v; want nil, nil", h, err)
	}
}
