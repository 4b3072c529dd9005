package config

import (
	"fmt"
	"net"
	"reflect"
	"time"
)

// Ensemble makes this server a member of a replicated ensemble. An empty
// member list is a standalone server. See config.yaml.
type Ensemble struct {
	// ID is this member's id, one of Members.
	ID int `koanf:"id"`
	// Members lists every member, this one included; the same list on
	// every member.
	Members []Member `koanf:"members"`
	// Join starts a member that is not in the ensemble yet: it waits to
	// be added with `zkx members add` instead of bootstrapping.
	Join bool `koanf:"join"`
	// RaftDir holds the raft log and snapshots; empty means "raft" inside
	// storage.data_dir's parent, named after it: "<data_dir>-raft".
	RaftDir string `koanf:"raft_dir"`
	// HeartbeatTimeout and ElectionTimeout: how long without a leader
	// before an election; they bound failover time.
	HeartbeatTimeout time.Duration `koanf:"heartbeat_timeout"`
	ElectionTimeout  time.Duration `koanf:"election_timeout"`
	// LeaderLeaseTimeout: a leader without a quorum for this long steps
	// down and stops serving.
	LeaderLeaseTimeout time.Duration `koanf:"leader_lease_timeout"`
	// CommitTimeout bounds how long a follower waits to learn that an
	// entry committed when nothing follows it.
	CommitTimeout time.Duration `koanf:"commit_timeout"`
	// SnapshotThreshold (entries) and SnapshotInterval: when raft
	// snapshots the tree and compacts its log; TrailingLogs entries are
	// kept after a snapshot for members that lag.
	SnapshotThreshold int           `koanf:"snapshot_threshold"`
	SnapshotInterval  time.Duration `koanf:"snapshot_interval"`
	TrailingLogs      int           `koanf:"trailing_logs"`
}

// Member is one entry of ensemble.members.
type Member struct {
	ID     int    `koanf:"id"`
	Raft   string `koanf:"raft"`
	Client string `koanf:"client"`
	// Role is "voter" (the default) or "observer".
	Role string `koanf:"role"`
}

// Enabled reports whether the server is an ensemble member.
func (e Ensemble) Enabled() bool { return len(e.Members) > 0 }

// Self returns this member's entry.
func (e Ensemble) Self() (Member, bool) {
	for _, m := range e.Members {
		if m.ID == e.ID {
			return m, true
		}
	}
	return Member{}, false
}

var membersType = reflect.TypeFor[[]Member]()

func flatMembers(ms []Member) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		role := m.Role
		if role == "" {
			role = "voter"
		}
		out[i] = map[string]any{"id": m.ID, "raft": m.Raft, "client": m.Client, "role": role}
	}
	return out
}

// validateEnsemble reports each problem of the ensemble section.
func (c Config) validateEnsemble(bad func(key, format string, args ...any)) {
	e := c.Ensemble
	if !e.Enabled() {
		return
	}
	ids := map[int]int{}
	addrs := map[string]string{}
	voters := 0
	for i, m := range e.Members {
		key := func(k string) string { return fmt.Sprintf("ensemble.members[%d].%s", i, k) }
		if m.ID < 1 || m.ID > 255 {
			bad(key("id"), "must be 1..255, got %d", m.ID)
		} else if j, dup := ids[m.ID]; dup {
			bad(key("id"), "%d is already the id of ensemble.members[%d]", m.ID, j)
		}
		ids[m.ID] = i
		for _, a := range []struct{ k, v string }{{"raft", m.Raft}, {"client", m.Client}} {
			host, port, err := net.SplitHostPort(a.v)
			switch {
			case err != nil:
				bad(key(a.k), "want host:port, got %q", a.v)
			case host == "" || port == "0":
				bad(key(a.k), "must name a host and a fixed port other members can reach, got %q", a.v)
			default:
				if other, dup := addrs[a.v]; dup {
					bad(key(a.k), "%s is also %s", a.v, other)
				}
				addrs[a.v] = key(a.k)
			}
		}
		switch m.Role {
		case "", "voter":
			voters++
		case "observer":
		default:
			bad(key("role"), "want voter or observer, got %q", m.Role)
		}
	}
	self, ok := e.Self()
	if !ok {
		bad("ensemble.id", "%d is not the id of any of ensemble.members", e.ID)
	} else if self.Client != c.Listen {
		bad("listen", "must be this member's client address %q (ensemble.members, id %d), got %q", self.Client, e.ID, c.Listen)
	}
	if voters == 0 {
		bad("ensemble.members", "need at least one voter; every member is an observer")
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"ensemble.heartbeat_timeout", e.HeartbeatTimeout},
		{"ensemble.election_timeout", e.ElectionTimeout},
		{"ensemble.leader_lease_timeout", e.LeaderLeaseTimeout},
		{"ensemble.commit_timeout", e.CommitTimeout},
		{"ensemble.snapshot_interval", e.SnapshotInterval},
	} {
		if d.v <= 0 {
			bad(d.key, "must be positive, got %v", d.v)
		}
	}
	if e.LeaderLeaseTimeout > e.HeartbeatTimeout {
		bad("ensemble.leader_lease_timeout", "must not exceed ensemble.heartbeat_timeout (%v), got %v", e.HeartbeatTimeout, e.LeaderLeaseTimeout)
	}
	if e.SnapshotThreshold < 1 {
		bad("ensemble.snapshot_threshold", "must be at least 1, got %d", e.SnapshotThreshold)
	}
	if e.TrailingLogs < 1 {
		bad("ensemble.trailing_logs", "must be at least 1, got %d", e.TrailingLogs)
	}
}
