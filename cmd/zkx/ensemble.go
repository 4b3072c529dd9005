package main

import (
	"log/slog"
	"path/filepath"

	"github.com/zkx-dev/zkx/internal/config"
	"github.com/zkx-dev/zkx/pkg/ensemble"
)

// raftDir is where an ensemble member keeps its raft log and snapshots:
// ensemble.raft_dir, or beside the data dir ("<data_dir>-raft"), or
// "./raft" for the memory backend.
func raftDir(cfg config.Config) string {
	if cfg.Ensemble.RaftDir != "" {
		return cfg.Ensemble.RaftDir
	}
	if cfg.Storage.Backend == "memory" {
		return "raft"
	}
	return filepath.Clean(cfg.Storage.DataDir) + "-raft"
}

// newEnsembleNode builds this member's ensemble node from a validated
// configuration; it starts with Node.Start once the server exists.
func newEnsembleNode(cfg config.Config, logger *slog.Logger) (*ensemble.Node, error) {
	e := cfg.Ensemble
	members := make([]ensemble.Member, 0, len(e.Members))
	for _, m := range e.Members {
		role := ensemble.Voter
		if m.Role == "observer" {
			role = ensemble.Observer
		}
		members = append(members, ensemble.Member{ID: m.ID, Raft: m.Raft, Client: m.Client, Role: role})
	}
	return ensemble.New(ensemble.Options{
		ID:                 e.ID,
		Members:            members,
		Dir:                raftDir(cfg),
		Join:               e.Join,
		HeartbeatTimeout:   e.HeartbeatTimeout,
		ElectionTimeout:    e.ElectionTimeout,
		LeaderLeaseTimeout: e.LeaderLeaseTimeout,
		CommitTimeout:      e.CommitTimeout,
		SnapshotThreshold:  uint64(e.SnapshotThreshold),
		SnapshotInterval:   e.SnapshotInterval,
		TrailingLogs:       uint64(e.TrailingLogs),
		TouchInterval:      cfg.TickTime / 2,
		ApplyDelay:         cfg.Debug.ApplyDelay,
		Logger:             logger,
	})
}
