package diff

import (
	"strconv"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{
			name: "zxids become ranks, not order of appearance",
			in:   []string{"a zxid(900)", "b zxid(17) zxid(900)", "c zxid(40)"},
			want: []string{"a Z3", "b Z1 Z3", "c Z2"},
		},
		{
			name: "zero and negative zxids are kept",
			in:   []string{"czxid=zxid(0) n=zxid(-1) z=zxid(5)"},
			want: []string{"czxid=0 n=-1 z=Z1"},
		},
		{
			name: "sessions numbered by first appearance, 0 kept",
			in:   []string{"sid(77)", "sid(5) owner=sid(77)", "owner=sid(0)"},
			want: []string{"S1", "S2 owner=S1", "owner=0"},
		},
		{
			name: "plain text untouched",
			in:   []string{"c1: get /x -> NoNode"},
			want: []string{"c1: get /x -> NoNode"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Normalize(tc.in)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeMakesDifferentServersEqual(t *testing.T) {
	zookeeper := []string{"s " + SessionToken(256), "create " + ZxidToken(2) + " owner=" + SessionToken(256), "set " + ZxidToken(9)}
	zkx := []string{"s " + SessionToken(7), "create " + ZxidToken(31) + " owner=" + SessionToken(7), "set " + ZxidToken(32)}
	if d := UnifiedDiff("zookeeper", "zkx", Normalize(zookeeper), Normalize(zkx), 3); d != "" {
		t.Fatalf("normalised transcripts differ:\n%s", d)
	}
}

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		want string
	}{
		{"identical", []string{"x", "y"}, []string{"x", "y"}, ""},
		{"changed line", []string{"x", "y", "z"}, []string{"x", "Y", "z"},
			"--- a\n+++ b\n x\n-y\n+Y\n z\n"},
		{"extra line in b", []string{"x"}, []string{"x", "event"},
			"--- a\n+++ b\n x\n+event\n"},
		{"far context elided", []string{"1", "2", "3", "4", "5", "6"}, []string{"1", "2", "3", "4", "5", "7"},
			"--- a\n+++ b\n@@ ... @@\n 5\n-6\n+7\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UnifiedDiff("a", "b", tc.a, tc.b, 1); got != tc.want {
				t.Errorf("UnifiedDiff = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrName(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil is ok", nil, "ok"},
		{"server code", errNoNodeForTest, "NoNode"},
		{"code go-zookeeper does not know", errUnknown(-6), "Unimplemented"},
		{"unnamed code", errUnknown(-999), "code(-999)"},
		{"transport error", errPlain("write: broken pipe"), "ConnectionLost"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrName(tc.err); got != tc.want {
				t.Errorf("ErrName(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

var errNoNodeForTest = zk.ErrNoNode

type errPlain string

func (e errPlain) Error() string { return string(e) }

func errUnknown(code int) error { return errPlain("unknown error: " + strconv.Itoa(code)) }
