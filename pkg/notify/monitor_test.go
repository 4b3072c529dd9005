package notify

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestMonitorReportsEachPlugin reads the mntr keys an operator would
// alert on: one plugin delivering, one failed at start.
func TestMonitorReportsEachPlugin(t *testing.T) {
	rec := recorderBin(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := startHost(t, Options{
		Plugins: []PluginConfig{
			{Name: "audit", Command: rec, Args: []string{"--out", out}},
			{Name: "bad", Command: rec, Args: []string{"--fail-start"}},
		},
		MaxFailures:      2,
		RetryFailedAfter: -1,
	})
	sinkMany(h.Host, 1, 5)
	waitFor(t, delivery, "audit to acknowledge 5 events", func() bool { return h.status(t, "audit").LastAcked >= 5 })
	waitFor(t, delivery, "bad to fail", func() bool { return h.status(t, "bad").State == StateFailed })

	got := map[string]string{}
	var order []string
	h.Monitor(func(k string, v any) {
		if _, dup := got[k]; dup {
			t.Errorf("key %s reported twice", k)
		}
		got[k] = fmt.Sprint(v)
		order = append(order, k)
	})
	want := map[string]string{
		"zkx_notifiers":         "2",
		"zkx_notifiers_running": "1",
		"zkx_notifiers_failed":  "1",

		"zkx_notifier_audit_state":           "running",
		"zkx_notifier_audit_up":              "1",
		"zkx_notifier_audit_last_acked_zxid": "5",
		"zkx_notifier_audit_delivered":       "5",
		"zkx_notifier_audit_lagging":         "0",
		"zkx_notifier_audit_gaps":            "0",
		"zkx_notifier_audit_failures":        "0",

		"zkx_notifier_bad_state":     "failed",
		"zkx_notifier_bad_up":        "0",
		"zkx_notifier_bad_failures":  "1",
		"zkx_notifier_bad_delivered": "0",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"queue_depth", "redelivered", "overflows", "restarts", "last_acked_zxid", "lagging", "gaps"} {
		if _, ok := got["zkx_notifier_bad_"+k]; !ok {
			t.Errorf("no zkx_notifier_bad_%s", k)
		}
	}
	if len(order) != 3+2*11 {
		t.Errorf("%d keys, want 3 totals and 11 per plugin: %v", len(order), order)
	}
	if order[0] != "zkx_notifiers" || order[3] != "zkx_notifier_audit_state" {
		t.Errorf("keys in order %v, want the totals first, then the plugins in configuration order", order)
	}
}
