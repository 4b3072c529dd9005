package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/zkx-dev/zkx/plugins/internal/jsonevent"
	"github.com/zkx-dev/zkx/sdk/notifier"
)

// writer is the plugin: it appends JSON lines to a file or a stream. Its
// methods are safe for concurrent use (zkx sends one batch at a time).
type writer struct {
	mu      sync.Mutex
	path    string // "" when writing to stream
	stream  io.Writer
	f       *os.File
	size    int64
	maxSize int64
	keep    int
	sync    bool
}

var _ notifier.Notifier = (*writer)(nil)

func newWriter(path string, maxSize int64, keep int, sync bool) (*writer, error) {
	if path == "-" || path == "" {
		return &writer{stream: os.Stderr}, nil
	}
	if keep < 0 {
		return nil, fmt.Errorf("--keep must not be negative")
	}
	w := &writer{path: path, maxSize: maxSize, keep: keep, sync: sync}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return nil
}

// rotate shifts FILE.(n) to FILE.(n+1), dropping the oldest, and starts a
// new FILE.
func (w *writer) rotate() error {
	if err := w.f.Close(); err != nil {
		return err
	}
	if w.keep == 0 {
		os.Remove(w.path)
	} else {
		os.Remove(fmt.Sprintf("%s.%d", w.path, w.keep))
		for i := w.keep - 1; i >= 1; i-- {
			os.Rename(fmt.Sprintf("%s.%d", w.path, i), fmt.Sprintf("%s.%d", w.path, i+1))
		}
		if err := os.Rename(w.path, w.path+".1"); err != nil {
			return err
		}
	}
	return w.open()
}

// Notify writes the batch as JSON lines.
func (w *writer) Notify(_ context.Context, events []notifier.Event) error {
	var buf []byte
	for _, e := range events {
		b, err := json.Marshal(jsonevent.From(e))
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		_, err := w.stream.Write(buf)
		return err
	}
	if w.maxSize > 0 && w.size > 0 && w.size+int64(len(buf)) > w.maxSize {
		if err := w.rotate(); err != nil {
			return fmt.Errorf("rotate %s: %w", w.path, err)
		}
	}
	n, err := w.f.Write(buf)
	w.size += int64(n)
	if err != nil {
		return err
	}
	if w.sync {
		return w.f.Sync()
	}
	return nil
}

// Health reports whether the file is still writable.
func (w *writer) Health(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	_, err := w.f.Stat()
	return err
}
