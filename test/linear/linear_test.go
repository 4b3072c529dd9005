package linear

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// op is a synthetic operation; an Unknown output never returns.
func op(client int, in Input, call int64, out Output, ret int64) porcupine.Operation {
	if out.Unknown {
		ret = Never
	}
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}

func read(key string) Input                   { return Input{Kind: Read, Key: key} }
func write(key, v string) Input               { return Input{Kind: Write, Key: key, Value: v} }
func cas(key string, e int32, v string) Input { return Input{Kind: CAS, Key: key, Expect: e, Value: v} }
func saw(v string, version int32) Output      { return Output{Value: v, Version: version} }
func ok(version int32) Output                 { return Output{Version: version} }

var (
	refused = Output{BadVersion: true}
	lost    = Output{Unknown: true, Err: "zk: connection closed"}
)

func TestLinearModel(t *testing.T) {
	cases := []struct {
		name string
		h    []porcupine.Operation
		want porcupine.CheckResult
	}{
		{"empty history", nil, Linearizable},
		{"initial state is empty data at version 0", []porcupine.Operation{
			op(0, read("a"), 0, saw("", 0), 10),
		}, Linearizable},
		{"write then read", []porcupine.Operation{
			op(0, write("a", "x"), 0, ok(1), 10),
			op(1, read("a"), 20, saw("x", 1), 30),
		}, Linearizable},
		{"stale read after a completed write", []porcupine.Operation{
			op(0, write("a", "x"), 0, ok(1), 10),
			op(1, read("a"), 20, saw("", 0), 30),
		}, NotLinearizable},
		{"a read concurrent with a write may see the old value", []porcupine.Operation{
			op(0, write("a", "x"), 0, ok(1), 30),
			op(1, read("a"), 10, saw("", 0), 20),
		}, Linearizable},
		{"a read concurrent with a write may see the new value", []porcupine.Operation{
			op(0, write("a", "x"), 0, ok(1), 30),
			op(1, read("a"), 10, saw("x", 1), 20),
		}, Linearizable},
		{"reads cannot go back in time", []porcupine.Operation{
			op(0, write("a", "x"), 0, ok(1), 100),
			op(1, read("a"), 10, saw("x", 1), 20),
			op(2, read("a"), 30, saw("", 0), 40),
		}, NotLinearizable},
		{"a write's version follows the writes before it", []porcupine.Operation{
			op(0, write("a", "x"), 0, ok(1), 10),
			op(1, write("a", "y"), 20, ok(1), 30),
		}, NotLinearizable},
		{"concurrent writes in either order", []porcupine.Operation{
			op(0, write("a", "x"), 0, ok(2), 30),
			op(1, write("a", "y"), 10, ok(1), 20),
			op(2, read("a"), 40, saw("x", 2), 50),
		}, Linearizable},
		{"read of a value with the wrong version", []porcupine.Operation{
			op(0, write("a", "x"), 0, ok(1), 10),
			op(1, read("a"), 20, saw("x", 2), 30),
		}, NotLinearizable},
		{"CAS on the current version succeeds, a second on the same version is refused", []porcupine.Operation{
			op(0, cas("a", 0, "x"), 0, ok(1), 10),
			op(1, cas("a", 0, "y"), 20, refused, 30),
			op(1, read("a"), 40, saw("x", 1), 50),
		}, Linearizable},
		{"two CAS on one version cannot both succeed", []porcupine.Operation{
			op(0, cas("a", 0, "x"), 0, ok(1), 10),
			op(1, cas("a", 0, "y"), 20, ok(2), 30),
		}, NotLinearizable},
		{"a CAS on the current version cannot be refused", []porcupine.Operation{
			op(0, cas("a", 0, "x"), 0, refused, 10),
		}, NotLinearizable},
		{"a refused CAS changes nothing", []porcupine.Operation{
			op(0, write("a", "x"), 0, ok(1), 10),
			op(1, cas("a", 0, "y"), 20, refused, 30),
			op(2, read("a"), 40, saw("x", 1), 50),
		}, Linearizable},
		{"keys are independent", []porcupine.Operation{
			op(0, write("b", "x"), 0, ok(1), 10),
			op(1, read("a"), 20, saw("", 0), 30),
			op(1, read("b"), 40, saw("x", 1), 50),
		}, Linearizable},
		{"the keys always exist", []porcupine.Operation{
			op(0, read("a"), 0, Output{NoNode: true}, 10),
		}, NotLinearizable},
		{"a write cannot find no node", []porcupine.Operation{
			op(0, write("a", "x"), 0, Output{NoNode: true}, 10),
		}, NotLinearizable},
		{"a stale read on one key fails the history", []porcupine.Operation{
			op(0, write("b", "x"), 0, ok(1), 10),
			op(1, read("a"), 20, saw("", 0), 30),
			op(1, read("b"), 40, saw("", 0), 50),
		}, NotLinearizable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := Check(tc.h, 10*time.Second); got != tc.want {
				t.Fatalf("Check = %s, want %s", got, tc.want)
			}
		})
	}
}

// A write or CAS whose outcome is unknown may have happened, at any moment after its call,
// or not at all; it cannot have happened before it was sent, nor be undone once seen.
func TestLinearUnknownOutcomes(t *testing.T) {
	cases := []struct {
		name string
		h    []porcupine.Operation
		want porcupine.CheckResult
	}{
		{"an unknown write later seen", []porcupine.Operation{
			op(0, write("a", "x"), 0, lost, 0),
			op(1, read("a"), 20, saw("x", 1), 30),
		}, Linearizable},
		{"an unknown write never seen", []porcupine.Operation{
			op(0, write("a", "x"), 0, lost, 0),
			op(1, read("a"), 20, saw("", 0), 30),
		}, Linearizable},
		{"an unknown write seen long after other writes", []porcupine.Operation{
			op(0, write("a", "x"), 0, lost, 0),
			op(1, write("a", "y"), 20, ok(1), 30),
			op(1, read("a"), 40, saw("y", 1), 50),
			op(2, read("a"), 60, saw("x", 2), 70),
		}, Linearizable},
		{"an unknown write seen, then not seen", []porcupine.Operation{
			op(0, write("a", "x"), 0, lost, 0),
			op(1, read("a"), 20, saw("x", 1), 30),
			op(1, read("a"), 40, saw("", 0), 50),
		}, NotLinearizable},
		{"an unknown write seen before it was sent", []porcupine.Operation{
			op(1, read("a"), 0, saw("x", 1), 10),
			op(0, write("a", "x"), 20, lost, 0),
		}, NotLinearizable},
		{"an unknown CAS that took effect", []porcupine.Operation{
			op(0, cas("a", 0, "x"), 0, lost, 0),
			op(1, read("a"), 20, saw("x", 1), 30),
		}, Linearizable},
		{"an unknown CAS that did not", []porcupine.Operation{
			op(0, cas("a", 0, "x"), 0, lost, 0),
			op(1, write("a", "y"), 20, ok(1), 30),
			op(1, read("a"), 40, saw("y", 1), 50),
		}, Linearizable},
		{"an unknown CAS on a version the node never had cannot take effect", []porcupine.Operation{
			op(0, cas("a", 5, "x"), 0, lost, 0),
			op(1, read("a"), 20, saw("x", 1), 30),
		}, NotLinearizable},
		{"an unknown read constrains nothing", []porcupine.Operation{
			op(0, write("a", "x"), 0, ok(1), 10),
			op(1, read("a"), 20, Output{Unknown: true}, 0),
		}, Linearizable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := Check(tc.h, 10*time.Second); got != tc.want {
				t.Fatalf("Check = %s, want %s", got, tc.want)
			}
		})
	}
}

// The Recorder takes operations from concurrent clients, each with its call before its
// return; unknown writes never return, and lost reads and discarded operations are left out.
func TestLinearRecorder(t *testing.T) {
	r := NewRecorder()
	const clients, perClient = 8, 50
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			version := int32(0)
			for i := range perClient {
				key := fmt.Sprintf("k%d", c) // one key per client: sequential, so linearizable
				switch i % 5 {
				case 0, 1:
					version++
					r.Begin(c, write(key, fmt.Sprintf("c%d-%d", c, i)), "").Done(ok(version))
				case 2:
					r.Begin(c, read(key), "").Done(saw(fmt.Sprintf("c%d-%d", c, i-1), version))
				case 3:
					r.Begin(c, read(key), "").Unknown(errors.New("zk: connection closed"))
				case 4:
					r.Begin(c, write(key, "never sent"), "").Discard()
				}
			}
			r.Begin(c, write(fmt.Sprintf("k%d", c), "lost"), "member killed").Unknown(errors.New("zk: connection closed"))
		}()
	}
	wg.Wait()
	h := r.History()
	if want := clients * (perClient*3/5 + 1); len(h) != want {
		t.Fatalf("History has %d operations, want %d", len(h), want)
	}
	if want := clients * perClient * 3 / 5; r.Known() != want {
		t.Errorf("Known() = %d, want %d", r.Known(), want)
	}
	unknown := 0
	for _, o := range h {
		if o.Output.(Output).Unknown {
			unknown++
			if o.Return != Never || o.Metadata != "member killed" {
				t.Errorf("unknown operation %s returns at %d with note %v, want Never and its note", Describe(o.Input.(Input), o.Output.(Output)), o.Return, o.Metadata)
			}
			continue
		}
		if o.Return < o.Call {
			t.Errorf("%s returns at %d before its call at %d", Describe(o.Input.(Input), o.Output.(Output)), o.Return, o.Call)
		}
	}
	if unknown != clients {
		t.Errorf("%d unknown operations, want %d", unknown, clients)
	}
	for _, want := range []string{"read lost 80", "write discarded 80", "write unknown 8", "write ok 160", "read ok 80"} {
		if !strings.Contains(r.Summary(), want) {
			t.Errorf("Summary() = %q, want it to contain %q", r.Summary(), want)
		}
	}
	if res, _ := Check(h, 10*time.Second); res != Linearizable {
		t.Fatalf("recorded sequential history checked as %s", res)
	}
}

func TestLinearCallEndsOnce(t *testing.T) {
	c := NewRecorder().Begin(0, read("a"), "")
	c.Done(saw("", 0))
	defer func() {
		if recover() == nil {
			t.Fatal("a second end of the same operation did not panic")
		}
	}()
	c.Discard()
}

// A history that is not linearizable gets a visualization file, named after the history.
func TestLinearVisualization(t *testing.T) {
	h := []porcupine.Operation{
		op(0, write("a", "x"), 0, ok(1), 10),
		op(1, read("a"), 20, saw("", 0), 30),
		op(2, write("a", "y"), 5, lost, 0),
	}
	res, info := Check(h, 10*time.Second)
	if res != NotLinearizable {
		t.Fatalf("Check = %s, want %s", res, NotLinearizable)
	}
	path := filepath.Join(t.TempDir(), "testdata", "stale.html")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Visualize(info, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Descriptions are JSON strings in the page: quotes escaped, ">" as \u003e.
	for _, want := range []string{"<html", `read a -\u003e \"\" v0`, `write a \"y\" -\u003e ? (zk: connection closed)`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("visualization lacks %q", want)
		}
	}
	if got := CheckHistory(t, "stale read/1", h, 10*time.Second); got != NotLinearizable {
		t.Fatalf("CheckHistory = %s, want %s", got, NotLinearizable)
	}
	if got := fileName("stale read/1"); got != "stale_read_1" {
		t.Errorf("fileName = %q", got)
	}
}

// A history written to a file reads back the same, and checks the same.
func TestLinearHistoryFile(t *testing.T) {
	h := []porcupine.Operation{
		op(0, write("a", "x"), 0, ok(1), 10),
		op(1, cas("a", 1, "y"), 5, lost, 0),
		op(2, read("a"), 20, saw("x", 1), 30),
		op(2, cas("a", 0, "z"), 40, refused, 50),
	}
	for i := range h {
		h[i].Metadata = "" // the Recorder's notes are strings, empty by default
	}
	h[0].Metadata = "c0 m1"
	var b strings.Builder
	if err := WriteHistory(&b, h); err != nil {
		t.Fatal(err)
	}
	got, err := ReadHistory(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(h) {
		t.Fatalf("read %d operations back, want %d:\n%s", len(got), len(h), b.String())
	}
	for i := range h {
		if got[i] != h[i] {
			t.Errorf("operation %d read back as %+v, want %+v", i, got[i], h[i])
		}
	}
	if res, _ := Check(got, 10*time.Second); res != Linearizable {
		t.Errorf("history read back checks as %s", res)
	}
	if _, err := ReadHistory(strings.NewReader("{not json")); err == nil {
		t.Error("ReadHistory accepted a broken file")
	}
}

func TestLinearDescribe(t *testing.T) {
	cases := []struct {
		in   Input
		out  Output
		want string
	}{
		{read("/k"), saw("x", 2), `read /k -> "x" v2`},
		{write("/k", "x"), ok(3), `write /k "x" -> v3`},
		{cas("/k", 3, "y"), refused, `cas /k v3 "y" -> BadVersion`},
		{cas("/k", 3, "y"), lost, `cas /k v3 "y" -> ? (zk: connection closed)`},
		{read("/k"), Output{NoNode: true}, `read /k -> NoNode`},
	}
	for _, tc := range cases {
		if got := Describe(tc.in, tc.out); got != tc.want {
			t.Errorf("Describe = %s, want %s", got, tc.want)
		}
	}
}
