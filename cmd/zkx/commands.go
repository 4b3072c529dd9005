package main

import (
	"errors"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/zkx-dev/zkx/internal/config"
)

// overrideFlags are the command-line flags of serve and check-config that
// set a configuration key.
var overrideFlags = []struct{ name, key, usage string }{
	{"listen", "listen", "client address, HOST:PORT"},
	{"storage", "storage.backend", "storage backend: memory or badger"},
	{"data-dir", "storage.data_dir", "directory of an on-disk backend"},
	{"log-level", "log.level", "debug, info, warn or error"},
}

// parseFlags parses the flags shared by serve and check-config. It returns
// the config file path and the keys set by flags that were given
// explicitly, so an absent flag never hides the file or the environment.
// exit >= 0 means the command must end with that code.
func (a *app) parseFlags(cmd string, args []string) (path string, overrides map[string]any, exit int) {
	fs := flag.NewFlagSet("zkx "+cmd, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.StringVar(&path, "config", "", "YAML configuration file; without it no file is read")
	for _, f := range overrideFlags {
		fs.String(f.name, "", f.usage+" (key "+f.key+")")
	}
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "Usage: zkx %s [flags]\n\nFlags:\n", cmd)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", nil, 0
		}
		return "", nil, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "zkx %s: unexpected argument %q\n", cmd, fs.Arg(0))
		fs.Usage()
		return "", nil, 2
	}
	overrides = make(map[string]any)
	fs.Visit(func(f *flag.Flag) {
		for _, o := range overrideFlags {
			if o.name == f.Name {
				overrides[o.key] = f.Value.String()
			}
		}
	})
	return path, overrides, -1
}

// loadConfig loads and fully checks the configuration for cmd, reporting
// problems on stderr. exit >= 0 means the command must end with that code.
func (a *app) loadConfig(cmd string, args []string) (cfg config.Config, exit int) {
	path, overrides, exit := a.parseFlags(cmd, args)
	if exit >= 0 {
		return config.Config{}, exit
	}
	cfg, err := config.Load(path, a.env, overrides)
	if err == nil {
		err = checkBackend(cfg.Storage)
	}
	if err != nil {
		fmt.Fprintln(a.stderr, "zkx: invalid configuration:")
		for line := range strings.SplitSeq(err.Error(), "\n") {
			fmt.Fprintln(a.stderr, "  "+line)
		}
		return config.Config{}, 1
	}
	return cfg, -1
}

// checkConfig implements `zkx check-config`: it prints "config OK" and the
// effective configuration, or the problems found.
func (a *app) checkConfig(args []string) int {
	cfg, exit := a.loadConfig("check-config", args)
	if exit >= 0 {
		return exit
	}
	out, err := cfg.YAML()
	if err != nil {
		fmt.Fprintf(a.stderr, "zkx: %v\n", err)
		return 1
	}
	fmt.Fprintln(a.stdout, "config OK")
	_, _ = a.stdout.Write(out)
	return 0
}

// version implements `zkx version`.
func (a *app) version(args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(a.stderr, "zkx version: unexpected argument %q\n", args[0])
		return 2
	}
	fmt.Fprintln(a.stdout, versionString())
	return 0
}

// versionString is "zkx <version>", followed by the VCS revision when the
// build recorded one, and the Go version.
func versionString() string {
	var b strings.Builder
	b.WriteString("zkx " + version)
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev string
		var modified bool
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			b.WriteString(" (commit " + rev)
			if modified {
				b.WriteString(", modified")
			}
			b.WriteString(")")
		}
	}
	b.WriteString(" " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH)
	return b.String()
}
