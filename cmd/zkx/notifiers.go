package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/zkx-dev/zkx/internal/config"
	"github.com/zkx-dev/zkx/pkg/notify"
	"github.com/zkx-dev/zkx/pkg/storage"
)

// newNotifyHost builds the notifier plugin host for the configured
// notifiers, or returns nil when there are none.
func newNotifyHost(cfg config.Config, backend storage.Backend, logger *slog.Logger) (*notify.Host, error) {
	if len(cfg.Notifiers) == 0 {
		return nil, nil
	}
	return notify.New(notifyOptions(cfg, backend, logger))
}

// notifyOptions maps the configuration onto the host's options. Ack files
// live in <storage.data_dir>/notifiers. A backend with a durable change log
// (badger) is the host's history, so delivery resumes across a restart;
// with the memory backend the host keeps an in-memory ring, and a plugin
// that had not caught up when zkx stopped gets a gap event after a
// restart. notify.retry_failed_after "0s" (never) becomes a negative
// RetryFailedAfter, since a zero one means the package default.
func notifyOptions(cfg config.Config, backend storage.Backend, logger *slog.Logger) notify.Options {
	tun := cfg.Notify
	opts := notify.Options{
		DataDir:          filepath.Join(cfg.Storage.DataDir, "notifiers"),
		Logger:           logger,
		StartTimeout:     tun.StartTimeout,
		NotifyTimeout:    tun.NotifyTimeout,
		MinBackoff:       tun.MinBackoff,
		MaxBackoff:       tun.MaxBackoff,
		MaxFailures:      tun.MaxFailures,
		HealthInterval:   tun.HealthInterval,
		RetryFailedAfter: tun.RetryFailedAfter,
	}
	if opts.RetryFailedAfter == 0 {
		opts.RetryFailedAfter = -1
	}
	if cl, ok := backend.(notify.ChangeLog); ok {
		opts.History = notify.FromChangeLog(cl)
	}
	for _, n := range cfg.Notifiers {
		opts.Plugins = append(opts.Plugins, notify.PluginConfig{
			Name:        n.Name,
			Command:     n.Command,
			Args:        n.Args,
			Paths:       n.Paths,
			Events:      n.Events,
			IncludeData: n.IncludeData,
			SHA256:      n.SHA256,
			QueueEvents: n.QueueEvents,
			BatchSize:   n.BatchSize,
			BatchDelay:  n.BatchDelay,
		})
	}
	return opts
}

// closeNotifyHost stops the plugins after the server has stopped sending
// events, saving each plugin's position.
func closeNotifyHost(h *notify.Host, logger *slog.Logger) {
	if h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		logger.Error("stopping notifiers did not complete", "err", err)
	}
	for _, st := range h.Status() {
		logger.Info("notifier stopped", "notifier", st.Name, "state", st.State.String(), "last_acked_zxid", st.LastAcked,
			"delivered", st.Delivered, "redelivered", st.Redelivered, "gaps", st.Gaps, "restarts", st.Restarts,
			"times_failed", st.Failures)
	}
}
