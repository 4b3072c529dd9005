package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/zkx-dev/zkx/internal/config"
	"github.com/zkx-dev/zkx/pkg/changelog"
	"github.com/zkx-dev/zkx/pkg/ensemble"
	"github.com/zkx-dev/zkx/pkg/server"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/storage/badger"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
)

// shutdownTimeout bounds a clean shutdown after SIGINT or SIGTERM: long
// enough to flush queued replies and the last storage commit, short enough
// that a stuck client cannot keep a supervisor's restart waiting.
const shutdownTimeout = 10 * time.Second

// serve implements `zkx serve`: load the configuration, open storage, start
// the server, and shut it down cleanly when the context ends.
func (a *app) serve(args []string) int {
	cfg, exit := a.loadConfig("serve", args)
	if exit >= 0 {
		return exit
	}
	logger := newLogger(cfg.Log, a.stderr)
	if cfg.Debug.PprofListen != "" {
		stop, err := startPprof(cfg.Debug.PprofListen, logger)
		if err != nil {
			logger.Error("cannot serve pprof", "debug.pprof_listen", cfg.Debug.PprofListen, "err", err)
			return 1
		}
		defer stop()
	}

	if cfg.Ensemble.Enabled() && cfg.Storage.Sync {
		// The raft log is synced before an entry is acknowledged, and a
		// member rebuilds its tree from the raft snapshot and log: syncing
		// the tree's own storage too would put one more disk sync in
		// series on every write.
		logger.Info("ensemble member: storage.sync is off for the tree's storage; the raft log carries durability")
		cfg.Storage.Sync = false
	}
	backend, err := openBackend(cfg.Storage, logger)
	if err != nil {
		logger.Error("cannot open storage", "backend", cfg.Storage.Backend, "err", err)
		return 1
	}
	// Closed after the server has shut down: the deferred call runs once
	// serve returns, whichever way it returns.
	defer func() {
		if err := backend.Close(); err != nil {
			logger.Error("closing storage failed", "backend", cfg.Storage.Backend, "err", err)
		}
	}()

	notifiers, err := newNotifyHost(cfg, backend, logger)
	if err != nil {
		logger.Error("cannot set up notifiers", "err", err)
		return 1
	}
	opts := serverOptions(cfg, backend, logger)
	// In an ensemble the plugins run on the leader only (leaderNotifiers);
	// the host built above only checked their configuration.
	var leaderPlugins *leaderNotifiers
	var retrier interface{ RetryFailed() []string }
	if notifiers != nil && cfg.Ensemble.Enabled() {
		notifiers = nil
		leaderPlugins = newLeaderNotifiers(cfg, backend, logger)
		opts.EventSink = leaderPlugins.Sink
		opts.Monitor = leaderPlugins.Monitor
		opts.OnNotifierAck = leaderPlugins.storeAck
		retrier = leaderPlugins
	}
	// Deferred before the server exists, so it runs after the server has
	// shut down and no more events arrive.
	defer closeNotifyHost(notifiers, logger)
	if notifiers != nil {
		opts.EventSink = notifiers.Sink
		opts.Monitor = notifiers.Monitor
		retrier = notifiers
		notifiers.Start()
	}

	var node *ensemble.Node
	if cfg.Ensemble.Enabled() {
		if node, err = newEnsembleNode(cfg, logger); err != nil {
			logger.Error("cannot set up the ensemble", "err", err)
			return 1
		}
		opts.Replicator = node
	}

	srv, err := server.New(opts)
	if err != nil {
		logger.Error("cannot create server", "err", err)
		return 1
	}
	if node != nil {
		if err := node.Start(srv); err != nil {
			logger.Error("cannot join the ensemble", "raft_dir", raftDir(cfg), "err", err)
			return 1
		}
		// Stopped before the server: nothing is applied to a server that
		// is shutting down.
		defer func() {
			if err := node.Shutdown(); err != nil {
				logger.Error("ensemble shutdown", "err", err)
			}
		}()
	}
	if err := srv.Start(); err != nil {
		logger.Error("cannot start server", "listen", cfg.Listen, "err", err)
		return 1
	}
	logger.Info("zkx started", "version", version, "addr", srv.Addr().String(), "storage", cfg.Storage.Backend)

	if leaderPlugins != nil {
		go leaderPlugins.run(node, srv)
	}
	a.waitForStop(retrier, logger)
	if a.stopSignals != nil {
		a.stopSignals()
	}
	logger.Info("shutting down", "cause", context.Cause(a.ctx).Error(), "timeout", shutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if leaderPlugins != nil {
		leaderPlugins.Close()
	}
	if node != nil {
		if err := node.Shutdown(); err != nil {
			logger.Error("ensemble shutdown", "err", err)
		}
	}
	if err := srv.Shutdown(ctx); err != nil {
		logger.Error("shutdown did not complete", "err", err)
		return 1
	}
	logger.Info("zkx stopped")
	return 0
}

// waitForStop returns when the app's context ends (SIGINT, SIGTERM). On
// SIGHUP in the meantime it starts every failed notifier plugin again, for
// an operator who has fixed its binary or its downstream.
func (a *app) waitForStop(notifiers interface{ RetryFailed() []string }, logger *slog.Logger) {
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-a.hup:
			if notifiers == nil {
				logger.Info("SIGHUP: no notifiers configured; nothing to do")
				continue
			}
			names := notifiers.RetryFailed()
			logger.Info("SIGHUP: starting failed notifiers again", "notifiers", names, "count", len(names))
		}
	}
}

// newLogger builds the process logger on w, in the configured format and
// level.
func newLogger(l config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: l.SlogLevel()}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serverOptions turns a validated configuration into the server's options.
func serverOptions(cfg config.Config, backend storage.Backend, logger *slog.Logger) server.Options {
	minTimeout, maxTimeout := cfg.SessionTimeouts()
	return server.Options{
		Listen:                 cfg.Listen,
		TickTime:               cfg.TickTime,
		MinSessionTimeout:      minTimeout,
		MaxSessionTimeout:      maxTimeout,
		MaxBuffer:              cfg.MaxBuffer,
		MaxOutbound:            cfg.MaxOutbound,
		FourLetterWords:        cfg.EnabledFourLetterWords(),
		SuperDigest:            cfg.SuperDigest,
		ExtendedTypes:          cfg.ExtendedTypes,
		ContainerCheckInterval: cfg.Container.CheckInterval,
		ContainerMaxNeverUsed:  cfg.Container.MaxNeverUsed,
		ContainerMaxPerMinute:  cfg.Container.MaxPerMinute,
		DisableReplay:          !cfg.Replay.Enabled,
		ReplayWindow:           changelog.Options{MaxEvents: cfg.Replay.MaxEvents, MaxBytes: cfg.Replay.MaxBytes},
		Backend:                backend,
		Logger:                 logger,
		Version:                version,
	}
}

// backendOpener opens one kind of storage backend.
type backendOpener func(st config.Storage, logger *slog.Logger) (storage.Backend, error)

// backendOpeners are the storage backends this build can open, by the name
// used in storage.backend. The configuration accepts every backend zkx
// knows; only the ones listed here can run.
var backendOpeners = map[string]backendOpener{
	"memory": func(config.Storage, *slog.Logger) (storage.Backend, error) {
		return memory.New(), nil
	},
	"badger": func(st config.Storage, logger *slog.Logger) (storage.Backend, error) {
		return badger.Open(st.DataDir, badger.Options{Sync: st.Sync, Logger: logger,
			MemTableSize: int64(st.Badger.MemTableSize), BlockCacheSize: int64(st.Badger.BlockCacheSize),
			IndexCacheSize: int64(st.Badger.IndexCacheSize), Retention: storage.Retention{
				MaxEvents: st.ChangeLog.MaxEvents, MaxBytes: int64(st.ChangeLog.MaxBytes), MaxAge: st.ChangeLog.MaxAge,
			}})
	},
}

// checkBackend reports a backend that this build cannot open, in the same
// form as the configuration's own errors.
func checkBackend(st config.Storage) error {
	if _, ok := backendOpeners[st.Backend]; ok {
		return nil
	}
	return &config.FieldError{
		Key: "storage.backend",
		Problem: fmt.Sprintf("backend %q is not available in this build (available: %s)",
			st.Backend, strings.Join(slices.Sorted(maps.Keys(backendOpeners)), ", ")),
	}
}

// openBackend opens the configured backend. The caller closes it after the
// server has shut down; the server itself never closes its backend.
func openBackend(st config.Storage, logger *slog.Logger) (storage.Backend, error) {
	if err := checkBackend(st); err != nil {
		return nil, err
	}
	return backendOpeners[st.Backend](st, logger)
}
