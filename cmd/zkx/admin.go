package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/zkx-dev/zkx/internal/admin"
	"github.com/zkx-dev/zkx/pkg/storage/badger"
)

// The offline commands (backup, restore, dump) work on a badger data dir
// that no zkx has open. They are thin: internal/admin does the work.

// adminFlags parses the flags of an offline command. Each string flag is
// required unless listed in optional. exit >= 0 means the command must end
// with that code.
func (a *app) adminFlags(cmd, synopsis string, args []string, strs map[string]*string, usage map[string]string, optional map[string]bool, force *bool) int {
	fs := flag.NewFlagSet("zkx "+cmd, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	for name, p := range strs {
		fs.StringVar(p, name, "", usage[name])
	}
	if force != nil {
		fs.BoolVar(force, "force", false, "delete the contents of a non-empty data dir before restoring into it")
	}
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "Usage: zkx %s %s\n\nFlags:\n", cmd, synopsis)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "zkx %s: unexpected argument %q\n", cmd, fs.Arg(0))
		fs.Usage()
		return 2
	}
	// Every missing flag is named, in a stable order, so the message does
	// not depend on map iteration.
	var missing []string
	for name, p := range strs {
		if *p == "" && !optional[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		for _, name := range missing {
			fmt.Fprintf(a.stderr, "zkx %s: --%s is required\n", cmd, name)
		}
		fs.Usage()
		return 2
	}
	return -1
}

// fail reports err for cmd on stderr, with a hint for the errors an
// operator can act on, and returns exit code 1.
func (a *app) fail(cmd string, err error) int {
	fmt.Fprintf(a.stderr, "zkx %s: %v\n", cmd, err)
	switch {
	case errors.Is(err, badger.ErrLocked):
		fmt.Fprintf(a.stderr, "zkx %s works offline: stop the zkx that uses this data dir first\n", cmd)
	case errors.Is(err, badger.ErrNotEmpty):
		fmt.Fprintf(a.stderr, "zkx %s: pass --force to delete the directory's contents and restore anyway\n", cmd)
	}
	return 1
}

// backup implements `zkx backup --data-dir DIR --out FILE`.
func (a *app) backup(args []string) int {
	var dir, out string
	if code := a.adminFlags("backup", "--data-dir DIR --out FILE", args,
		map[string]*string{"data-dir": &dir, "out": &out},
		map[string]string{"data-dir": "badger data dir to back up (no zkx may be running on it)", "out": "backup file to create (never overwritten)"},
		nil, nil); code >= 0 {
		return code
	}
	bi, err := admin.BackupFile(dir, out, admin.Options{})
	if err != nil {
		return a.fail("backup", err)
	}
	fmt.Fprintf(a.stdout, "backup of %s written to %s: last zxid %#x, %d bytes\n", dir, out, uint64(bi.LastZxid), bi.StreamBytes)
	return 0
}

// restore implements `zkx restore --in FILE --data-dir DIR [--force]`.
func (a *app) restore(args []string) int {
	var in, dir string
	var force bool
	if code := a.adminFlags("restore", "--in FILE --data-dir DIR [--force]", args,
		map[string]*string{"in": &in, "data-dir": &dir},
		map[string]string{"in": "backup file written by zkx backup", "data-dir": "data dir to create; must be missing or empty unless --force"},
		nil, &force); code >= 0 {
		return code
	}
	bi, err := admin.RestoreFile(in, dir, force, admin.Options{})
	if err != nil {
		return a.fail("restore", err)
	}
	fmt.Fprintf(a.stdout, "restored %s into %s: last zxid %#x, backup taken %s\n",
		in, dir, uint64(bi.LastZxid), bi.Created.UTC().Format("2006-01-02T15:04:05Z"))
	return 0
}

// dump implements `zkx dump --data-dir DIR [--out FILE]`.
func (a *app) dump(args []string) int {
	var dir, out string
	if code := a.adminFlags("dump", "--data-dir DIR [--out FILE]", args,
		map[string]*string{"data-dir": &dir, "out": &out},
		map[string]string{"data-dir": "badger data dir to dump (no zkx may be running on it)", "out": "file to write the JSON lines to (default: standard output)"},
		map[string]bool{"out": true}, nil); code >= 0 {
		return code
	}
	var w io.Writer = a.stdout
	var f *os.File
	if out != "" {
		var err error
		f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return a.fail("dump", err)
		}
		w = f
	}
	bw := bufio.NewWriter(w)
	err := admin.Dump(dir, bw, admin.Options{})
	if err == nil {
		err = bw.Flush()
	}
	if f != nil {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(out)
		}
	}
	if err != nil {
		return a.fail("dump", err)
	}
	return 0
}
