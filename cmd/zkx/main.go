// Command zkx runs a server that speaks the Apache ZooKeeper client
// protocol. Run `zkx help` for its commands; config.yaml at the root of the
// repository documents every setting.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args (without the program name) and
// returns the process exit code: 0 on success, 1 when the command failed,
// 2 on a usage error. SIGINT and SIGTERM stop a running server cleanly;
// SIGHUP starts failed notifier plugins again.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	a := &app{ctx: ctx, stopSignals: stop, hup: hup, env: os.Environ(), stdout: stdout, stderr: stderr}
	return a.run(args)
}

// app is one invocation of the command: its input (arguments, environment,
// a context cancelled by a signal) and its output streams.
type app struct {
	ctx context.Context
	// stopSignals restores default signal handling, so a second Ctrl-C
	// during a slow shutdown kills the process.
	stopSignals func()
	// hup delivers SIGHUP: serve starts failed notifier plugins again.
	hup            <-chan os.Signal
	env            []string
	stdout, stderr io.Writer
}

func (a *app) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, usage)
		return 2
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return a.serve(rest)
	case "check-config":
		return a.checkConfig(rest)
	case "version":
		return a.version(rest)
	case "backup":
		return a.backup(rest)
	case "restore":
		return a.restore(rest)
	case "dump":
		return a.dump(rest)
	case "members":
		return a.members(rest)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(a.stdout, usage)
		return 0
	default:
		fmt.Fprintf(a.stderr, "zkx: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

const usage = `Usage: zkx <command> [flags]

Commands:
  serve          run the server until SIGINT or SIGTERM (SIGHUP starts
                 failed notifier plugins again)
  check-config   validate the configuration, print it as YAML
  version        print the version
  backup         --data-dir DIR --out FILE: back up a stopped server's data dir
  restore        --in FILE --data-dir DIR [--force]: restore a backup into a new data dir
  dump           --data-dir DIR [--out FILE]: print a data dir as JSON lines
  members        list|add|remove --raft HOST:PORT ...: change a running
                 ensemble's members (zkx members help)
  help           show this help

Flags of serve and check-config:
  --config PATH        YAML configuration file; without it no file is read
  --listen HOST:PORT   client address (key listen)
  --storage NAME       storage backend, memory or badger (key storage.backend)
  --data-dir DIR       directory of an on-disk backend (key storage.data_dir)
  --log-level LEVEL    debug, info, warn or error (key log.level)

Settings are applied in this order, the later winning: built-in defaults,
the --config file, ZKX_* environment variables (ZKX_TICK_TIME sets
tick_time, ZKX_STORAGE_DATA_DIR sets storage.data_dir), flags.
config.yaml in the zkx repository documents every key.
`
