package ensemble

import (
	"bufio"
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	three := []Member{
		{ID: 1, Raft: "127.0.0.1:2888", Client: "127.0.0.1:2181"},
		{ID: 2, Raft: "127.0.0.1:2889", Client: "127.0.0.1:2182"},
		{ID: 3, Raft: "127.0.0.1:2890", Client: "127.0.0.1:2183", Role: Observer},
	}
	cases := []struct {
		name    string
		id      int
		members []Member
		want    string // "" = valid
	}{
		{"valid", 2, three, ""},
		{"empty", 1, nil, "no members"},
		{"self missing", 9, three, "id 9 is not in the member list"},
		{"id out of range", 1, []Member{{ID: 0, Raft: "a:1", Client: "a:2"}}, "outside 1..255"},
		{"duplicate id", 1, []Member{three[0], {ID: 1, Raft: "b:1", Client: "b:2"}}, "listed twice"},
		{"shared address", 1, []Member{three[0], {ID: 2, Raft: "127.0.0.1:2888", Client: "b:2"}}, "also used by member 1"},
		{"bad address", 1, []Member{{ID: 1, Raft: "nohost", Client: "a:2"}}, "raft address"},
		{"observers only", 1, []Member{{ID: 1, Raft: "a:1", Client: "a:2", Role: Observer}}, "no voting member"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.id, tc.members)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid membership refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// The leader's stamps are epoch<<32|counter; entries that take no zxid
// carry the last one handed out; a spent counter moves to a new epoch.
func TestStamp(t *testing.T) {
	n := &Node{}
	if n.stamp(NewEntry(FlagZxid, 0)) {
		t.Fatal("a member that is not a ready leader stamped an entry")
	}
	n.ready, n.epoch = true, 7
	e1 := NewEntry(FlagZxid, 0)
	sync := NewEntry(0, 0)
	e2 := NewEntry(FlagZxid, 0)
	for _, e := range [][]byte{e1, sync, e2} {
		if !n.stamp(e) {
			t.Fatal("the leader did not stamp")
		}
	}
	z1, t1 := ReadStamp(e1)
	zs, _ := ReadStamp(sync)
	z2, _ := ReadStamp(e2)
	if z1 != 7<<32|1 || zs != z1 || z2 != 7<<32|2 {
		t.Errorf("zxids %#x, %#x (sync), %#x; want 0x700000001, the same, 0x700000002", z1, zs, z2)
	}
	if t1 <= 0 {
		t.Errorf("time stamp %d", t1)
	}
	n.counter = 1<<32 - 1
	e3 := NewEntry(FlagZxid, 0)
	n.stamp(e3)
	if z3, _ := ReadStamp(e3); z3 != 8<<32|1 {
		t.Errorf("after a spent counter the zxid is %#x, want 0x800000001", z3)
	}
}

func TestForwardingFrames(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := writeFrame(w, frameProposal, []byte{1, 2}, []byte("entry")); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	typ, b, err := readFrame(bufio.NewReader(&buf))
	if err != nil || typ != frameProposal || string(b) != "\x01\x02entry" {
		t.Fatalf("read back %q %q %v", typ, b, err)
	}
	huge := []byte{frameAck, 0xff, 0xff, 0xff, 0xff}
	if _, _, err := readFrame(bufio.NewReader(bytes.NewReader(huge))); err == nil {
		t.Fatal("a 4 GiB frame was accepted")
	}
}

func TestRaftLogLinesKeepTheirLevel(t *testing.T) {
	var out bytes.Buffer
	w := &slogWriter{log: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	w.Write([]byte("[WARN]  raft: heartbeat timeout reached\n[ERROR] raft: failed to contact\n[DEBUG] raft: x\nplain line\n"))
	got := out.String()
	for _, want := range []string{`level=WARN msg="raft: heartbeat timeout reached"`, `level=ERROR msg="raft: failed to contact"`, `level=DEBUG msg="raft: x"`, `level=INFO msg="plain line"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s:\n%s", want, got)
		}
	}
}
