package admin_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/client"
	"github.com/zkx-dev/zkx/internal/admin"
	"github.com/zkx-dev/zkx/pkg/server"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/storage/badger"
	"github.com/zkx-dev/zkx/pkg/znode"
)

var quiet = slog.New(slog.DiscardHandler)

// serve runs a zkx server on the badger store in dir, as `zkx serve`
// does, and returns its address and a stop function (shutdown, then close
// the store).
func serve(t *testing.T, dir string) (addr string, stop func()) {
	t.Helper()
	store, err := badger.Open(dir, badger.Options{Sync: true, Logger: quiet})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	// The default tick (2s), so the client's 10s session is granted as
	// asked: a short tick caps it at 20 ticks, and the client drops its
	// connection when nothing arrives for 2/3 of the session, which a
	// synced commit stalled on a busy disk could take with a 50ms tick.
	srv, err := server.New(server.Options{Listen: "127.0.0.1:0", Backend: store, Logger: quiet})
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		store.Close()
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	}
	t.Cleanup(stop)
	return srv.Addr().String(), stop
}

func connect(t *testing.T, addr string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, addr, client.Options{SessionTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type nodeState struct {
	Data []byte
	Stat znode.Stat
	ACL  []znode.ACL
}

// snapshot reads every node under the root (the /zookeeper subtree
// included) with its data, Stat and ACL, as a client sees them.
func snapshot(t *testing.T, c *client.Client) map[string]nodeState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.AddAuth(ctx, "digest", []byte("u:p")); err != nil {
		t.Fatal(err)
	}
	out := map[string]nodeState{}
	var walk func(p string)
	walk = func(p string) {
		data, st, err := c.Get(ctx, p)
		if err != nil {
			t.Fatalf("get %s: %v", p, err)
		}
		acl, _, err := c.GetACL(ctx, p)
		if err != nil {
			t.Fatalf("getACL %s: %v", p, err)
		}
		out[p] = nodeState{Data: data, Stat: st, ACL: acl}
		kids, _, err := c.Children(ctx, p)
		if err != nil {
			t.Fatalf("children %s: %v", p, err)
		}
		for _, k := range kids {
			walk(znode.Join(p, k))
		}
	}
	walk("/")
	return out
}

// TestBackupRestoreRoundTrip serves a store, writes to it, stops it,
// backs it up, restores the backup into a new directory and serves that:
// every node must come back with the same data, Stat and ACL.
func TestBackupRestoreRoundTrip(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	addr, stop := serve(t, src)
	c := connect(t, addr)
	ctx := context.Background()
	mustCreate := func(p string, data []byte, o client.CreateOptions) {
		if _, _, err := c.Create(ctx, p, data, o); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
	mustCreate("/app", []byte("root of the app"), client.CreateOptions{})
	mustCreate("/app/null", nil, client.CreateOptions{})
	mustCreate("/app/empty", []byte{}, client.CreateOptions{})
	mustCreate("/app/binary", []byte{0xff, 0x00, 0xfe}, client.CreateOptions{})
	mustCreate("/app/locked", []byte("x"), client.CreateOptions{ACL: []client.ACL{client.DigestACL(znode.PermAll, "u", "p")}})
	for i := range 3 {
		if _, err := c.Set(ctx, "/app", []byte{byte('a' + i)}, -1); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Delete(ctx, "/app/empty", -1); err != nil {
		t.Fatal(err)
	}
	mustCreate("/app/empty", []byte{}, client.CreateOptions{})
	if _, err := c.Multi(ctx,
		client.CreateOp("/app/m1", []byte("1"), client.CreateOptions{}),
		client.CreateOp("/app/m2", []byte("2"), client.CreateOptions{}),
	); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, c)
	c.Close()
	stop()

	file := filepath.Join(base, "zkx.backup")
	bi, err := admin.BackupFile(src, file, admin.Options{})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if bi.LastZxid == 0 || bi.StreamBytes == 0 {
		t.Errorf("backup info %+v: want a last zxid and stream bytes", bi)
	}
	dst := filepath.Join(base, "dst")
	rbi, err := admin.RestoreFile(file, dst, false, admin.Options{})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if rbi.LastZxid != bi.LastZxid {
		t.Errorf("restore reports last zxid %#x, backup %#x", rbi.LastZxid, bi.LastZxid)
	}

	// The dumps of both directories are identical.
	var d1, d2 bytes.Buffer
	if err := admin.Dump(src, &d1, admin.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Dump(dst, &d2, admin.Options{}); err != nil {
		t.Fatal(err)
	}
	if d1.String() != d2.String() {
		t.Errorf("dumps differ:\nsource:\n%s\nrestored:\n%s", d1.String(), d2.String())
	}

	addr, _ = serve(t, dst)
	c = connect(t, addr)
	got := snapshot(t, c)
	if !reflect.DeepEqual(got, want) {
		for p, w := range want {
			if g, ok := got[p]; !ok || !reflect.DeepEqual(g, w) {
				t.Errorf("%s after restore: got %+v, want %+v", p, g, w)
			}
		}
		for p := range got {
			if _, ok := want[p]; !ok {
				t.Errorf("%s exists after restore only", p)
			}
		}
	}
	// New writes continue above the restored zxid.
	st, err := c.Set(ctx, "/app", []byte("after"), -1)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mzxid <= bi.LastZxid {
		t.Errorf("first write after restore has zxid %#x, not above the backup's %#x", st.Mzxid, bi.LastZxid)
	}
}

// makeStore creates a closed store in a new directory holding one batch.
func makeStore(t *testing.T, b storage.Batch) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := badger.Open(dir, badger.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func open(t *testing.T, dir string) *badger.Store {
	t.Helper()
	s, err := badger.Open(dir, badger.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRefusals(t *testing.T) {
	simple := storage.Batch{Zxid: 5, Puts: []storage.Node{{Path: "/a", Data: []byte("x"), Czxid: 5, Mzxid: 5, Pzxid: 5}}}
	goodBackup := func(t *testing.T) string {
		file := filepath.Join(t.TempDir(), "b")
		if _, err := admin.BackupFile(makeStore(t, simple), file, admin.Options{}); err != nil {
			t.Fatal(err)
		}
		return file
	}
	tests := []struct {
		name    string
		run     func(t *testing.T) error
		wantErr error
		wantMsg string
	}{
		{
			name: "backup of a missing dir",
			run: func(t *testing.T) error {
				_, err := admin.BackupFile(filepath.Join(t.TempDir(), "nope"), filepath.Join(t.TempDir(), "b"), admin.Options{})
				return err
			},
			wantErr: badger.ErrNoStore, wantMsg: "does not exist",
		},
		{
			name: "backup of an empty dir",
			run: func(t *testing.T) error {
				_, err := admin.BackupFile(t.TempDir(), filepath.Join(t.TempDir(), "b"), admin.Options{})
				return err
			},
			wantErr: badger.ErrNoStore, wantMsg: "is empty",
		},
		{
			name: "backup of a dir in use",
			run: func(t *testing.T) error {
				dir := makeStore(t, simple)
				open(t, dir)
				_, err := admin.BackupFile(dir, filepath.Join(t.TempDir(), "b"), admin.Options{})
				return err
			},
			wantErr: badger.ErrLocked, wantMsg: "is another zkx running on it",
		},
		{
			name: "backup over an existing file",
			run: func(t *testing.T) error {
				out := filepath.Join(t.TempDir(), "b")
				if err := os.WriteFile(out, []byte("keep me"), 0o600); err != nil {
					t.Fatal(err)
				}
				_, err := admin.BackupFile(makeStore(t, simple), out, admin.Options{})
				if b, _ := os.ReadFile(out); string(b) != "keep me" {
					t.Errorf("existing file was changed to %q", b)
				}
				return err
			},
			wantErr: admin.ErrOutputExists, wantMsg: "never overwrites",
		},
		{
			name: "restore into a non-empty dir",
			run: func(t *testing.T) error {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
				_, err := admin.RestoreFile(goodBackup(t), dir, false, admin.Options{})
				if _, serr := os.Stat(filepath.Join(dir, "f")); serr != nil {
					t.Errorf("the directory's file is gone: %v", serr)
				}
				return err
			},
			wantErr: badger.ErrNotEmpty, wantMsg: "--force",
		},
		{
			name: "forced restore into a dir in use",
			run: func(t *testing.T) error {
				dir := makeStore(t, simple)
				open(t, dir)
				_, err := admin.RestoreFile(goodBackup(t), dir, true, admin.Options{})
				return err
			},
			wantErr: badger.ErrLocked, wantMsg: "stop it before restoring",
		},
		{
			name: "restore of a file that is not a backup",
			run: func(t *testing.T) error {
				in := filepath.Join(t.TempDir(), "b")
				if err := os.WriteFile(in, []byte(strings.Repeat("not a backup ", 20)), 0o600); err != nil {
					t.Fatal(err)
				}
				dst := filepath.Join(t.TempDir(), "d")
				_, err := admin.RestoreFile(in, dst, false, admin.Options{})
				if _, serr := os.Stat(dst); serr == nil {
					t.Errorf("%s was created by a failed restore", dst)
				}
				return err
			},
			wantErr: badger.ErrBadBackup, wantMsg: "not a zkx backup",
		},
		{
			name: "restore of a truncated backup",
			run: func(t *testing.T) error {
				in := goodBackup(t)
				b, _ := os.ReadFile(in)
				if err := os.WriteFile(in, b[:len(b)-10], 0o600); err != nil {
					t.Fatal(err)
				}
				_, err := admin.RestoreFile(in, filepath.Join(t.TempDir(), "d"), false, admin.Options{})
				return err
			},
			wantErr: badger.ErrBadBackup, wantMsg: "truncated",
		},
		{
			name: "restore of a damaged backup",
			run: func(t *testing.T) error {
				in := goodBackup(t)
				b, _ := os.ReadFile(in)
				b[len(b)-5] ^= 0xff
				if err := os.WriteFile(in, b, 0o600); err != nil {
					t.Fatal(err)
				}
				_, err := admin.RestoreFile(in, filepath.Join(t.TempDir(), "d"), false, admin.Options{})
				return err
			},
			wantErr: badger.ErrBadBackup, wantMsg: "checksum mismatch",
		},
		{
			name: "restore of a backup with a damaged header",
			run: func(t *testing.T) error {
				in := goodBackup(t)
				b, _ := os.ReadFile(in)
				b[20] ^= 0xff
				if err := os.WriteFile(in, b, 0o600); err != nil {
					t.Fatal(err)
				}
				_, err := admin.RestoreFile(in, filepath.Join(t.TempDir(), "d"), false, admin.Options{})
				return err
			},
			wantErr: badger.ErrBadBackup, wantMsg: "header checksum",
		},
		{
			name: "dump of a missing dir",
			run: func(t *testing.T) error {
				return admin.Dump(filepath.Join(t.TempDir(), "nope"), &bytes.Buffer{}, admin.Options{})
			},
			wantErr: badger.ErrNoStore,
		},
		{
			name: "dump of a dir in use",
			run: func(t *testing.T) error {
				dir := makeStore(t, simple)
				open(t, dir)
				return admin.Dump(dir, &bytes.Buffer{}, admin.Options{})
			},
			wantErr: badger.ErrLocked,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(t)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
		})
	}
}

// TestForcedRestoreReplacesContents checks that --force leaves exactly the
// backup's nodes, none of the old store's.
func TestForcedRestoreReplacesContents(t *testing.T) {
	file := filepath.Join(t.TempDir(), "b")
	src := makeStore(t, storage.Batch{Zxid: 7, Puts: []storage.Node{{Path: "/from-backup", Data: []byte("b"), Czxid: 7, Mzxid: 7, Pzxid: 7}}})
	if _, err := admin.BackupFile(src, file, admin.Options{}); err != nil {
		t.Fatal(err)
	}
	dst := makeStore(t, storage.Batch{Zxid: 99, Puts: []storage.Node{{Path: "/old", Data: []byte("o"), Czxid: 99, Mzxid: 99, Pzxid: 99}}})
	if _, err := admin.RestoreFile(file, dst, true, admin.Options{}); err != nil {
		t.Fatal(err)
	}
	s := open(t, dst)
	var paths []string
	st, err := s.Load(context.Background(), func(n storage.Node) error {
		paths = append(paths, n.Path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(paths, []string{"/from-backup"}) || st.LastZxid != 7 {
		t.Errorf("after a forced restore: nodes %v, last zxid %d; want [/from-backup] and 7", paths, st.LastZxid)
	}
}
