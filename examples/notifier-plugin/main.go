// Command notifier-plugin is a complete zkx notifier plugin: it prints one
// line per event to stderr, which zkx copies into its own log.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/zkx-dev/zkx/sdk/notifier"
)

type printer struct {
	out  io.Writer
	last int64 // highest zxid printed: delivery is at least once, so skip repeats
}

func (p *printer) Notify(ctx context.Context, events []notifier.Event) error {
	for _, ev := range events {
		if ev.Zxid > p.last || ev.Type == notifier.EventGap {
			fmt.Fprintf(p.out, "zkx event: %s\n", ev)
		}
		p.last = max(p.last, ev.Zxid)
	}
	return nil
}

func main() { notifier.Serve(&printer{out: os.Stderr}) }
