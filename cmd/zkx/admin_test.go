package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/storage/badger"
)

// newStore creates a closed badger store holding /a.
func newStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := badger.Open(dir, badger.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	b := storage.Batch{Zxid: 9, Puts: []storage.Node{{Path: "/a", Data: []byte("x"), Czxid: 9, Mzxid: 9, Pzxid: 9}}}
	if err := s.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOfflineCommands(t *testing.T) {
	src := newStore(t)
	tmp := t.TempDir()
	backup := filepath.Join(tmp, "zkx.bak")
	restored := filepath.Join(tmp, "restored")
	dumpFile := filepath.Join(tmp, "dump.jsonl")
	nonEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(nonEmpty, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The cases run in order: later ones use the files earlier ones made.
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{name: "backup without flags", args: []string{"backup"}, wantCode: 2, wantStderr: []string{"--data-dir is required", "--out is required", "Usage: zkx backup"}},
		{name: "backup without out", args: []string{"backup", "--data-dir", src}, wantCode: 2, wantStderr: []string{"--out is required"}},
		{name: "backup of a missing dir", args: []string{"backup", "--data-dir", filepath.Join(tmp, "nope"), "--out", backup}, wantCode: 1,
			wantStderr: []string{"zkx backup:", "no zkx store", "does not exist"}},
		{name: "backup", args: []string{"backup", "--data-dir", src, "--out", backup}, wantCode: 0,
			wantStdout: []string{"written to " + backup, "last zxid 0x9"}},
		{name: "backup refuses to overwrite", args: []string{"backup", "--data-dir", src, "--out", backup}, wantCode: 1,
			wantStderr: []string{"never overwrites"}},
		{name: "restore without in", args: []string{"restore", "--data-dir", restored}, wantCode: 2, wantStderr: []string{"--in is required"}},
		{name: "restore into a non-empty dir", args: []string{"restore", "--in", backup, "--data-dir", nonEmpty}, wantCode: 1,
			wantStderr: []string{"not empty", "pass --force"}},
		{name: "restore of a non-backup", args: []string{"restore", "--in", filepath.Join(nonEmpty, "file"), "--data-dir", restored}, wantCode: 1,
			wantStderr: []string{"invalid backup"}},
		{name: "restore", args: []string{"restore", "--in", backup, "--data-dir", restored}, wantCode: 0,
			wantStdout: []string{"restored " + backup + " into " + restored, "last zxid 0x9"}},
		{name: "forced restore", args: []string{"restore", "--in", backup, "--data-dir", nonEmpty, "--force"}, wantCode: 0,
			wantStdout: []string{"restored"}},
		{name: "dump to stdout", args: []string{"dump", "--data-dir", restored}, wantCode: 0,
			wantStdout: []string{`{"type":"node","path":"/a","kind":"persistent","data":"eA==","text":"x"`, `{"type":"end","last_zxid":9,`}},
		{name: "dump to a file", args: []string{"dump", "--data-dir", restored, "--out", dumpFile}, wantCode: 0},
		{name: "dump of a missing dir", args: []string{"dump", "--data-dir", filepath.Join(tmp, "nope")}, wantCode: 1,
			wantStderr: []string{"zkx dump:", "no zkx store"}},
		{name: "dump with an argument", args: []string{"dump", "--data-dir", restored, "extra"}, wantCode: 2,
			wantStderr: []string{`unexpected argument "extra"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runApp(t, nil, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout, stderr)
			}
			for _, s := range tc.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
	b, err := os.ReadFile(dumpFile)
	if err != nil || !strings.Contains(string(b), `"path":"/a"`) {
		t.Errorf("dump file: %v\n%s", err, b)
	}
}

func TestOfflineCommandOnRunningDir(t *testing.T) {
	dir := newStore(t)
	s, err := badger.Open(dir, badger.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, args := range [][]string{
		{"backup", "--data-dir", dir, "--out", filepath.Join(t.TempDir(), "b")},
		{"dump", "--data-dir", dir},
	} {
		code, _, stderr := runApp(t, nil, args...)
		if code != 1 || !strings.Contains(stderr, "locked") || !strings.Contains(stderr, "stop the zkx that uses this data dir first") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and a locked-dir hint", args, code, stderr)
		}
	}
}
