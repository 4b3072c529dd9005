package main

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Every server process zkx-load starts and every directory it creates is
// registered here, so that an error exit or a Ctrl-C kills the processes
// and removes the directories. (Each process is also started with
// Pdeathsig, which kills it should zkx-load die without running this.)
var cleanup struct {
	sync.Mutex
	procs map[int]bool // process group ids (each server leads its own)
	dirs  map[string]bool
}

func trackProc(pgid int) {
	cleanup.Lock()
	defer cleanup.Unlock()
	if cleanup.procs == nil {
		cleanup.procs = map[int]bool{}
	}
	cleanup.procs[pgid] = true
}

func untrackProc(pgid int) {
	cleanup.Lock()
	defer cleanup.Unlock()
	delete(cleanup.procs, pgid)
}

func trackDir(dir string) {
	cleanup.Lock()
	defer cleanup.Unlock()
	if cleanup.dirs == nil {
		cleanup.dirs = map[string]bool{}
	}
	cleanup.dirs[dir] = true
}

func untrackDir(dir string) {
	cleanup.Lock()
	defer cleanup.Unlock()
	delete(cleanup.dirs, dir)
}

// mkdirTemp is os.MkdirTemp with the directory registered for cleanup.
func mkdirTemp(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err == nil {
		trackDir(dir)
	}
	return dir, err
}

// removeDir removes a directory made by mkdirTemp.
func removeDir(dir string) {
	os.RemoveAll(dir)
	untrackDir(dir)
}

// cleanupAll kills every registered process group with SIGKILL and
// removes every registered directory.
func cleanupAll() {
	cleanup.Lock()
	defer cleanup.Unlock()
	for pgid := range cleanup.procs {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	cleanup.procs = nil
	for dir := range cleanup.dirs {
		os.RemoveAll(dir)
	}
	cleanup.dirs = nil
}

// cleanupOnSignal runs cleanupAll and exits when zkx-load is interrupted
// or terminated.
func cleanupOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-ch
		fmt.Fprintf(os.Stderr, "zkx-load: %v: stopping every server\n", sig)
		cleanupAll()
		os.Exit(130)
	}()
}
