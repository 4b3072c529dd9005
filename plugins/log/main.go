// Command zkx-notifier-log is a zkx notifier plugin that writes every event
// as one JSON line, to a file rotated by size or to stderr.
//
//	notifiers:
//	  - name: audit
//	    command: ./bin/zkx-notifier-log
//	    args: ["--out", "/var/log/zkx/audit.jsonl", "--max-size", "104857600", "--keep", "5"]
//
// With --out - (the default) lines go to stderr and so into zkx's own log.
// A file is appended to and synced after each batch, so an acknowledged
// batch is on disk. When a batch would take the file past --max-size, the
// file is renamed to FILE.1 (FILE.1 to FILE.2, and so on, keeping --keep
// old files) and a new one is started.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/zkx-dev/zkx/sdk/notifier"
)

func main() {
	out := flag.String("out", "-", "file to append JSON lines to; - for stderr")
	maxSize := flag.Int64("max-size", 100<<20, "rotate the file when it would grow past this many bytes (0: never)")
	keep := flag.Int("keep", 5, "rotated files to keep")
	noSync := flag.Bool("no-sync", false, "do not fsync after each batch")
	flag.Parse()
	w, err := newWriter(*out, *maxSize, *keep, !*noSync)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkx-notifier-log:", err)
		os.Exit(1)
	}
	notifier.Serve(w)
}
