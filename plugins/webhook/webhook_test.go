package main

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/sdk/notifier"
	"github.com/zkx-dev/zkx/sdk/notifier/notifiertest"
)

// receiver is a test endpoint answering with the next scripted status (200
// once the script runs out) and recording each request.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	delay    time.Duration
	requests []*http.Request
	bodies   [][]byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.requests = append(rc.requests, r)
	rc.bodies = append(rc.bodies, b)
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	delay := rc.delay
	rc.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
	}
	w.WriteHeader(status)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}

var batch = []notifier.Event{
	{Type: notifier.EventCreated, Path: "/app/x", Zxid: 11, Time: time.UnixMilli(1700000000000), Data: []byte("hi"), HasData: true},
	{Type: notifier.EventChildrenChanged, Path: "/app", Zxid: 11, Version: 1},
	{Type: notifier.EventDataChanged, Path: "/app/x", Zxid: 12, Version: 1},
}

func TestDeliversSignedBatch(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	w, err := newWebhook(options{url: srv.URL, secret: []byte("s3cret"), timeout: 5 * time.Second, retries: 0,
		headers: [][2]string{{"Authorization", "Bearer t"}}})
	if err != nil {
		t.Fatal(err)
	}
	c := notifiertest.Start(t, w)
	if err := c.Notify(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if rc.count() != 1 {
		t.Fatalf("%d requests, want 1", rc.count())
	}
	r, b := rc.requests[0], rc.bodies[0]
	if got, want := r.Header.Get(SignatureHeader), Sign([]byte("s3cret"), b); !hmac.Equal([]byte(got), []byte(want)) {
		t.Errorf("signature %q, want %q", got, want)
	}
	if r.Header.Get(DeliveryHeader) != "11-12" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer t" {
		t.Errorf("headers %v", r.Header)
	}
	var got struct {
		Events []struct {
			Type, Path string
			Zxid       int64
			Data       []byte
		}
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 3 || got.Events[0].Type != "created" || string(got.Events[0].Data) != "hi" || got.Events[2].Zxid != 12 {
		t.Errorf("body %s", b)
	}
	if err := c.Health(context.Background()); err != nil {
		t.Errorf("health after success: %v", err)
	}
}

func TestRetriesAndFailures(t *testing.T) {
	// timeout is the client's request timeout. Only the case about
	// timeouts has a short one, and even that leaves a loaded machine
	// ample time to get each attempt to the server, which counts only the
	// attempts it received. Elsewhere a request that timed out would be
	// one attempt more, or another error.
	tests := []struct {
		name         string
		statuses     []int
		delay        time.Duration
		timeout      time.Duration
		retries      int
		wantErr      string
		wantRequests int
	}{
		{"success first time", nil, 0, 30 * time.Second, 3, "", 1},
		{"server errors then success", []int{500, 503}, 0, 30 * time.Second, 3, "", 3},
		{"rate limited then success", []int{429}, 0, 30 * time.Second, 3, "", 2},
		{"retries exhausted", []int{500, 500, 500}, 0, 30 * time.Second, 2, "status 500", 3},
		{"client error not retried", []int{400}, 0, 30 * time.Second, 3, "not retried", 1},
		{"timeouts retried", nil, time.Minute, time.Second, 1, "Client.Timeout", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{statuses: tt.statuses, delay: tt.delay}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			w, err := newWebhook(options{url: srv.URL, timeout: tt.timeout, retries: tt.retries, backoff: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			c := notifiertest.Start(t, w)
			err = c.Notify(context.Background(), batch)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantErr != "" {
				var pe *notifier.PluginError
				if !errors.As(err, &pe) || !strings.Contains(pe.Msg, tt.wantErr) {
					t.Fatalf("error %v, want a plugin error containing %q", err, tt.wantErr)
				}
				if c.Health(context.Background()) == nil {
					t.Errorf("health is ok after a failed delivery")
				}
			}
			// A request the client gave up on is answered by nobody: its
			// handler may still be about to record it. Close waits for
			// every handler.
			srv.Close()
			if rc.count() != tt.wantRequests {
				t.Errorf("%d requests, want %d", rc.count(), tt.wantRequests)
			}
		})
	}
}

func TestUnreachableServerFails(t *testing.T) {
	url := "http://" + refusingAddr(t)
	w, _ := newWebhook(options{url: url, timeout: time.Second, retries: 1, backoff: time.Millisecond})
	c := notifiertest.Start(t, w)
	if err := c.Notify(context.Background(), batch); err == nil || !strings.Contains(err.Error(), "attempt 2") {
		t.Errorf("error %v, want failure after 2 attempts", err)
	}
}

func TestOptionsValidated(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "::"} {
		if _, err := newWebhook(options{url: u, timeout: time.Second}); err == nil {
			t.Errorf("url %q accepted", u)
		}
	}
}

// refusingAddr returns a loopback address that refuses connections until
// the test ends: its port is bound by a socket that never listens, so no
// listener can take it meanwhile, as one could take the port of a server
// that was closed.
func refusingAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
