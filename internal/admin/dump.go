package admin

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/storage/badger"
	"github.com/zkx-dev/zkx/pkg/tree"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// Node kinds in a dump, from the stored ephemeralOwner.
const (
	KindPersistent = "persistent"
	KindEphemeral  = "ephemeral"
	KindContainer  = "container"
	KindTTL        = "ttl"
)

// NodeLine is the dump line of one znode.
type NodeLine struct {
	Type string `json:"type"` // "node"
	Path string `json:"path"`
	// Kind is KindPersistent, KindEphemeral, KindContainer or KindTTL.
	Kind string `json:"kind"`
	// TTLMillis is the TTL of a KindTTL node.
	TTLMillis int64 `json:"ttl_ms,omitempty"`
	// Owner is the owning session of a KindEphemeral node, in hex as
	// ZooKeeper's tools print session ids.
	Owner string `json:"owner,omitempty"`
	// Data is the data in standard base64; nil (JSON null) for a node
	// created with null data, "" for empty data.
	Data *string `json:"data"`
	// Text is the data as a string when it is valid UTF-8; absent for null
	// data and for binary data.
	Text *string  `json:"text,omitempty"`
	Stat StatJSON `json:"stat"`
	ACL  []ACL    `json:"acl"`
}

// StatJSON is the client view of a node's Stat, with ZooKeeper's field
// names.
type StatJSON struct {
	Czxid          int64 `json:"czxid"`
	Mzxid          int64 `json:"mzxid"`
	Ctime          int64 `json:"ctime"`
	Mtime          int64 `json:"mtime"`
	Version        int32 `json:"version"`
	Cversion       int32 `json:"cversion"`
	Aversion       int32 `json:"aversion"`
	EphemeralOwner int64 `json:"ephemeralOwner"`
	DataLength     int32 `json:"dataLength"`
	NumChildren    int32 `json:"numChildren"`
	Pzxid          int64 `json:"pzxid"`
}

// ACL is one entry of a node's ACL.
type ACL struct {
	Perms  int32  `json:"perms"`
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
}

// SessionLine is the dump line of one stored session.
type SessionLine struct {
	Type      string `json:"type"` // "session"
	ID        int64  `json:"id"`
	IDHex     string `json:"id_hex"`
	TimeoutMs int32  `json:"timeout_ms"`
	// Ephemerals is the number of ephemeral nodes the session owns.
	Ephemerals int `json:"ephemerals"`
}

// EndLine is the last line of a dump.
type EndLine struct {
	Type        string `json:"type"` // "end"
	LastZxid    int64  `json:"last_zxid"`
	LastZxidHex string `json:"last_zxid_hex"`
	Nodes       int    `json:"nodes"`
	Sessions    int    `json:"sessions"`
}

// Dump writes the store in dataDir to w as JSON lines (see the package
// documentation). It opens the store exclusively, so it fails with
// badger.ErrLocked while a zkx runs on it, and with badger.ErrNoStore when
// dataDir holds no store. A store whose nodes do not form a tree fails
// with an error naming the problem.
func Dump(dataDir string, w io.Writer, opts Options) error {
	s, err := badger.OpenExisting(dataDir, badger.Options{Logger: opts.logger()})
	if err != nil {
		return err
	}
	var nodes []storage.Node
	st, err := s.Load(context.Background(), func(n storage.Node) error {
		nodes = append(nodes, n)
		return nil
	})
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return WriteDump(w, nodes, st)
}

// WriteDump writes the dump of the given stored nodes and state to w. The
// nodes are rebuilt into a tree first, so the Stats are the ones clients
// would see; nodes is consumed.
func WriteDump(w io.Writer, nodes []storage.Node, st storage.State) error {
	t, err := tree.NewFromStorage(nodes)
	if err != nil {
		return fmt.Errorf("admin: dump: the stored nodes do not form a tree: %w", err)
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)

	all := t.Nodes() // sorted by path
	ephemerals := make(map[int64]int)
	for i := range all {
		n := &all[i]
		stat, _, _ := t.Stat(n.Path)
		line := nodeLine(n, stat)
		if line.Kind == KindEphemeral {
			ephemerals[n.EphemeralOwner]++
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("admin: dump: %w", err)
		}
	}
	sessions := slices.Clone(st.Sessions)
	slices.SortFunc(sessions, func(a, b storage.Session) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	for _, ss := range sessions {
		if err := enc.Encode(SessionLine{
			Type: "session", ID: ss.ID, IDHex: hex(ss.ID), TimeoutMs: ss.Timeout, Ephemerals: ephemerals[ss.ID],
		}); err != nil {
			return fmt.Errorf("admin: dump: %w", err)
		}
	}
	if err := enc.Encode(EndLine{
		Type: "end", LastZxid: st.LastZxid, LastZxidHex: hex(st.LastZxid), Nodes: len(all), Sessions: len(sessions),
	}); err != nil {
		return fmt.Errorf("admin: dump: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("admin: dump: %w", err)
	}
	return nil
}

func nodeLine(n *storage.Node, stat znode.Stat) NodeLine {
	line := NodeLine{
		Type: "node",
		Path: n.Path,
		Kind: kindOf(n.EphemeralOwner),
		Stat: StatJSON(stat),
		ACL:  make([]ACL, 0, len(n.ACL)),
	}
	switch line.Kind {
	case KindTTL:
		line.TTLMillis = n.EphemeralOwner & znode.MaxTTL
	case KindEphemeral:
		line.Owner = hex(n.EphemeralOwner)
	}
	if n.Data != nil {
		b64 := base64.StdEncoding.EncodeToString(n.Data)
		line.Data = &b64
		if utf8.Valid(n.Data) {
			text := string(n.Data)
			line.Text = &text
		}
	}
	for _, a := range n.ACL {
		line.ACL = append(line.ACL, ACL{Perms: a.Perms, Scheme: a.ID.Scheme, ID: a.ID.ID})
	}
	return line
}

// kindOf reads the node kind from a stored ephemeralOwner: 0 is a
// persistent node, znode.ContainerOwner a container, a value with the TTL
// marker byte a TTL node, anything else a session id.
func kindOf(owner int64) string {
	switch {
	case owner == 0:
		return KindPersistent
	case owner == znode.ContainerOwner:
		return KindContainer
	case owner&znode.TTLOwnerMask == znode.TTLOwnerMask:
		return KindTTL
	}
	return KindEphemeral
}

func hex(v int64) string { return fmt.Sprintf("%#x", uint64(v)) }
