package admin_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/internal/admin"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// TestDumpKnownTree dumps a store with one node of each kind and data
// shape and compares the lines to the expected JSON.
func TestDumpKnownTree(t *testing.T) {
	open := []znode.ACL{{Perms: znode.PermAll, ID: znode.ID{Scheme: "world", ID: "anyone"}}}
	dir := makeStore(t, storage.Batch{
		Zxid: 0x20,
		Puts: []storage.Node{
			{Path: "/app", Data: []byte("hello"), ACL: open, Czxid: 0x10, Mzxid: 0x12, Ctime: 1000, Mtime: 2000, Version: 2, Cversion: 5, Pzxid: 0x1f},
			{Path: "/app/null", Data: nil, ACL: open, Czxid: 0x11, Mzxid: 0x11, Ctime: 1100, Mtime: 1100, Pzxid: 0x11},
			{Path: "/app/empty", Data: []byte{}, ACL: open, Czxid: 0x13, Mzxid: 0x13, Ctime: 1300, Mtime: 1300, Pzxid: 0x13},
			{Path: "/app/bin", Data: []byte{0xff, 0x00}, ACL: []znode.ACL{{Perms: znode.PermRead, ID: znode.ID{Scheme: "digest", ID: "u:hash"}}},
				Czxid: 0x14, Mzxid: 0x14, Aversion: 1, Pzxid: 0x14},
			{Path: "/app/eph", Data: []byte("e"), ACL: open, Czxid: 0x15, Mzxid: 0x15, EphemeralOwner: 0x1234, Pzxid: 0x15},
			{Path: "/box", ACL: open, Data: []byte{}, Czxid: 0x16, Mzxid: 0x16, EphemeralOwner: znode.ContainerOwner, Pzxid: 0x16},
			{Path: "/ttl", ACL: open, Data: []byte{}, Czxid: 0x17, Mzxid: 0x17, EphemeralOwner: znode.TTLOwnerMask | 60000, Pzxid: 0x17},
		},
		SessionPuts: []storage.Session{
			{ID: 0x1234, Timeout: 4000, Passwd: []byte("secret-password!")},
			{ID: 0x99, Timeout: 2000, Passwd: []byte("another-secret!!")},
		},
	})
	var out bytes.Buffer
	if err := admin.Dump(dir, &out, admin.Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "secret") {
		t.Error("the dump contains a session password")
	}
	const acl = `[{"perms":31,"scheme":"world","id":"anyone"}]`
	want := map[string]string{
		"/app":       `{"type":"node","path":"/app","kind":"persistent","data":"aGVsbG8=","text":"hello","stat":{"czxid":16,"mzxid":18,"ctime":1000,"mtime":2000,"version":2,"cversion":6,"aversion":0,"ephemeralOwner":0,"dataLength":5,"numChildren":4,"pzxid":31},"acl":` + acl + `}`,
		"/app/bin":   `{"type":"node","path":"/app/bin","kind":"persistent","data":"/wA=","stat":{"czxid":20,"mzxid":20,"ctime":0,"mtime":0,"version":0,"cversion":0,"aversion":1,"ephemeralOwner":0,"dataLength":2,"numChildren":0,"pzxid":20},"acl":[{"perms":1,"scheme":"digest","id":"u:hash"}]}`,
		"/app/empty": `{"type":"node","path":"/app/empty","kind":"persistent","data":"","text":"","stat":{"czxid":19,"mzxid":19,"ctime":1300,"mtime":1300,"version":0,"cversion":0,"aversion":0,"ephemeralOwner":0,"dataLength":0,"numChildren":0,"pzxid":19},"acl":` + acl + `}`,
		"/app/eph":   `{"type":"node","path":"/app/eph","kind":"ephemeral","owner":"0x1234","data":"ZQ==","text":"e","stat":{"czxid":21,"mzxid":21,"ctime":0,"mtime":0,"version":0,"cversion":0,"aversion":0,"ephemeralOwner":4660,"dataLength":1,"numChildren":0,"pzxid":21},"acl":` + acl + `}`,
		"/app/null":  `{"type":"node","path":"/app/null","kind":"persistent","data":null,"stat":{"czxid":17,"mzxid":17,"ctime":1100,"mtime":1100,"version":0,"cversion":0,"aversion":0,"ephemeralOwner":0,"dataLength":0,"numChildren":0,"pzxid":17},"acl":` + acl + `}`,
		"/box":       `{"type":"node","path":"/box","kind":"container","data":"","text":"","stat":{"czxid":22,"mzxid":22,"ctime":0,"mtime":0,"version":0,"cversion":0,"aversion":0,"ephemeralOwner":0,"dataLength":0,"numChildren":0,"pzxid":22},"acl":` + acl + `}`,
		"/ttl":       `{"type":"node","path":"/ttl","kind":"ttl","ttl_ms":60000,"data":"","text":"","stat":{"czxid":23,"mzxid":23,"ctime":0,"mtime":0,"version":0,"cversion":0,"aversion":0,"ephemeralOwner":0,"dataLength":0,"numChildren":0,"pzxid":23},"acl":` + acl + `}`,
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var paths []string
	var rest []string
	for _, l := range lines {
		var v struct{ Type, Path, Kind string }
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		if v.Type != "node" {
			rest = append(rest, l)
			continue
		}
		paths = append(paths, v.Path)
		if w, ok := want[v.Path]; ok && l != w {
			t.Errorf("line of %s:\n got %s\nwant %s", v.Path, l, w)
		}
		if strings.HasPrefix(v.Path, "/zookeeper") && v.Kind != "persistent" {
			t.Errorf("special node %s has kind %q", v.Path, v.Kind)
		}
	}
	wantPaths := []string{"/", "/app", "/app/bin", "/app/empty", "/app/eph", "/app/null", "/box", "/ttl", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"}
	if strings.Join(paths, " ") != strings.Join(wantPaths, " ") {
		t.Errorf("node lines in order %v, want %v", paths, wantPaths)
	}
	wantRest := []string{
		`{"type":"session","id":153,"id_hex":"0x99","timeout_ms":2000,"ephemerals":0}`,
		`{"type":"session","id":4660,"id_hex":"0x1234","timeout_ms":4000,"ephemerals":1}`,
		`{"type":"end","last_zxid":32,"last_zxid_hex":"0x20","nodes":11,"sessions":2}`,
	}
	if strings.Join(rest, "\n") != strings.Join(wantRest, "\n") {
		t.Errorf("session and end lines:\n%s\nwant:\n%s", strings.Join(rest, "\n"), strings.Join(wantRest, "\n"))
	}
}
