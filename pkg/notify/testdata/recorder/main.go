// Command recorder is the notifier plugin pkg/notify's tests run as a real
// process: it appends every event it receives as a JSON line to --out, and
// misbehaves on request.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/zkx-dev/zkx/sdk/notifier"
)

type line struct {
	Type     string `json:"type"`
	Path     string `json:"path,omitempty"`
	Zxid     int64  `json:"zxid"`
	Version  int32  `json:"version"`
	Data     string `json:"data,omitempty"`
	HasData  bool   `json:"has_data,omitempty"`
	GapStart int64  `json:"gap_start,omitempty"`
	GapEnd   int64  `json:"gap_end,omitempty"`
	PID      int    `json:"pid"`
}

type recorder struct {
	out, stuck, errFile, crash string
	rejectConfig               bool
}

func exists(p string) bool {
	if p == "" {
		return false
	}
	_, err := os.Stat(p)
	return err == nil
}

func (r *recorder) Notify(ctx context.Context, events []notifier.Event) error {
	if exists(r.stuck) {
		os.WriteFile(r.stuck+".entered", nil, 0o644) // tell the test
		select {}                                    // never returns, ignores ctx
	}
	if exists(r.crash) {
		fmt.Fprintln(os.Stderr, "recorder: crashing in Notify as asked")
		os.Exit(4)
	}
	if exists(r.errFile) {
		return errors.New("downstream unavailable")
	}
	var buf []byte
	for _, e := range events {
		b, _ := json.Marshal(line{Type: e.Type.String(), Path: e.Path, Zxid: e.Zxid, Version: e.Version,
			Data: string(e.Data), HasData: e.HasData, GapStart: e.GapStart, GapEnd: e.GapEnd, PID: os.Getpid()})
		buf = append(append(buf, b...), '\n')
	}
	f, err := os.OpenFile(r.out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(buf)
	return err
}

func (r *recorder) Configure(ctx context.Context, cfg notifier.Config) error {
	if r.rejectConfig {
		return fmt.Errorf("configuration of %q rejected", cfg.Name)
	}
	fmt.Fprintf(os.Stderr, "recorder configured as %s for %v\n", cfg.Name, cfg.Paths)
	return nil
}

func main() {
	r := &recorder{}
	flag.StringVar(&r.out, "out", "", "file to append events to")
	flag.StringVar(&r.stuck, "stuck", "", "while this file exists, Notify never returns")
	flag.StringVar(&r.errFile, "err", "", "while this file exists, Notify returns an error")
	flag.StringVar(&r.crash, "crash", "", "while this file exists, Notify exits the process")
	flag.BoolVar(&r.rejectConfig, "reject-config", false, "Configure fails")
	failStart := flag.Bool("fail-start", false, "exit at once")
	fake := flag.String("fake-handshake", "", "print this line instead of serving")
	flag.Parse()
	if *failStart {
		fmt.Fprintln(os.Stderr, "recorder: failing at start as asked")
		os.Exit(3)
	}
	if *fake != "" {
		fmt.Println(*fake)
		time.Sleep(10 * time.Second)
		return
	}
	notifier.Serve(r)
}
