package server

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

var update = flag.Bool("update", false, "rewrite the expected output of script tests")

// TestScripts runs the watch scripts in testdata/scripts. A script is a
// list of commands, each "client: command args", followed by the lines it
// must produce, each prefixed "> ": first the notifications that client
// received before the reply, as "event TYPE PATH", then the result. Every
// client is a separate connection and session; "ping" shows pending
// events only. Run with -update to rewrite the expected lines after a
// deliberate change, then review the diff.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/scripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			runScript(t, f)
		})
	}
}

func runScript(t *testing.T, file string) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	srv := startTestServer(t, nil)
	clients := map[string]*rawClient{}
	var out bytes.Buffer
	var want bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(string(src), "\n"), "\n") {
		if strings.HasPrefix(line, "> ") || line == ">" {
			want.WriteString(line + "\n")
			continue
		}
		want.WriteString(line + "\n")
		out.WriteString(line + "\n")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, cmd, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("%s: line %q has no client name", file, line)
		}
		name, cmd = strings.TrimSpace(name), strings.TrimSpace(cmd)
		for _, l := range runCommand(t, srv, clients, name, cmd) {
			out.WriteString("> " + l + "\n")
		}
	}
	if *update {
		if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := out.String(); got != want.String() {
		t.Errorf("%s: output differs (run with -update to accept)\n--- got\n%s\n--- want\n%s", file, got, want.String())
	}
}

func runCommand(t *testing.T, srv *Server, clients map[string]*rawClient, name, cmd string) []string {
	t.Helper()
	args := strings.Fields(cmd)
	c := clients[name]
	if args[0] == "connect" {
		clients[name] = connectRaw(t, srv.Addr().String())
		return nil
	}
	if c == nil {
		t.Fatalf("client %s used before connect", name)
	}
	var result string
	arg := func(i int, def string) string {
		if i < len(args) {
			return args[i]
		}
		return def
	}
	watch := slices.Contains(args[1:], "watch")
	switch args[0] {
	case "create":
		mode := znode.ModePersistent
		var data []byte
		acl := znode.OpenACLUnsafe
		for _, a := range args[2:] {
			switch {
			case strings.HasPrefix(a, "mode="):
				m, _ := strconv.Atoi(strings.TrimPrefix(a, "mode="))
				mode = znode.CreateMode(m)
			case a == "acl=noread":
				acl = []znode.ACL{{Perms: znode.PermAll &^ znode.PermRead, ID: znode.AnyoneID}}
			default:
				data = []byte(a)
			}
		}
		var resp proto.CreateResponse
		result = codeOr(c.call(proto.OpCreate, &proto.CreateRequest{Path: args[1], Data: data, ACL: acl, Flags: int32(mode)}, &resp), func() string { return resp.Path })
	case "delete":
		v, _ := strconv.Atoi(arg(2, "-1"))
		result = codeOr(c.call(proto.OpDelete, &proto.DeleteRequest{Path: args[1], Version: int32(v)}, nil), func() string { return "ok" })
	case "set":
		var resp proto.SetDataResponse
		result = codeOr(c.call(proto.OpSetData, &proto.SetDataRequest{Path: args[1], Data: []byte(arg(2, "")), Version: -1}, &resp),
			func() string { return fmt.Sprintf("version=%d", resp.Stat.Version) })
	case "get":
		var resp proto.GetDataResponse
		result = codeOr(c.call(proto.OpGetData, &proto.GetDataRequest{Path: args[1], Watch: watch}, &resp), func() string { return "data=" + string(resp.Data) })
	case "exists":
		var resp proto.ExistsResponse
		result = codeOr(c.call(proto.OpExists, &proto.ExistsRequest{Path: args[1], Watch: watch}, &resp), func() string { return "exists" })
	case "children":
		var resp proto.GetChildrenResponse
		result = codeOr(c.call(proto.OpGetChildren, &proto.GetChildrenRequest{Path: args[1], Watch: watch}, &resp), func() string {
			slices.Sort(resp.Children)
			return "[" + strings.Join(resp.Children, " ") + "]"
		})
	case "addWatch":
		mode := map[string]int32{"persistent": 0, "recursive": 1}[arg(2, "persistent")]
		var resp proto.ErrorResponse
		result = codeOr(c.call(proto.OpAddWatch, &proto.AddWatchRequest{Path: args[1], Mode: mode}, &resp), func() string { return "ok" })
	case "removeWatches", "checkWatches":
		types := map[string]int32{"children": 1, "data": 2, "any": 3, "persistent": 4, "recursive": 5}
		op := proto.OpRemoveWatches
		if args[0] == "checkWatches" {
			op = proto.OpCheckWatches
		}
		result = codeOr(c.call(op, &proto.RemoveWatchesRequest{Path: args[1], Type: types[arg(2, "any")]}, nil), func() string { return "ok" })
	case "close":
		result = codeOr(c.call(proto.OpCloseSession, nil, nil), func() string { return "ok" })
	case "ping":
	default:
		t.Fatalf("unknown script command %q", args[0])
	}
	var lines []string
	for _, ev := range c.pending {
		lines = append(lines, fmt.Sprintf("event %s %s", znode.EventType(ev.Type), ev.Path))
	}
	c.pending, c.zxids = nil, nil
	if args[0] == "ping" {
		for _, ev := range c.events() {
			lines = append(lines, fmt.Sprintf("event %s %s", znode.EventType(ev.Type), ev.Path))
		}
		return lines
	}
	return append(lines, result)
}

func codeOr(code int32, ok func() string) string {
	if code != 0 {
		return proto.CodeName(code)
	}
	return ok()
}
