package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zkx-dev/zkx/plugins/internal/jsonevent"
	"github.com/zkx-dev/zkx/sdk/notifier"
	"github.com/zkx-dev/zkx/sdk/notifier/notifiertest"
)

// startNATS runs a real nats-server (Debian package nats-server) on a free
// loopback port until the test ends, and returns its URL.
func startNATS(t *testing.T) (url string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		// Debian installs it in /usr/sbin, which a user's PATH may lack.
		bin, err = exec.LookPath("/usr/sbin/nats-server")
	}
	if err != nil {
		t.Skip("nats-server not installed (scripts/install-test-deps.sh installs it)")
	}
	// Port -1: the server binds a free port itself and writes it to a
	// ports file. A port picked here and released could be taken by
	// anything before the server binds it.
	portsDir := t.TempDir()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", portsDir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = func() {
		cmd.Process.Kill()
		<-done
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if url = natsURL(portsDir); url != "" {
			break
		}
		select {
		case <-done:
			t.Fatalf("nats-server exited before it wrote its ports file")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server wrote no ports file in %s", portsDir)
		}
		time.Sleep(20 * time.Millisecond)
	}
	addr := strings.TrimPrefix(url, "nats://")
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return url, stop
}

// natsURL returns the client URL from the ports file nats-server writes in
// dir, "" while there is none or it is not complete yet.
func natsURL(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.ports"))
	if len(files) != 1 {
		return ""
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return ""
	}
	var ports struct {
		Nats []string `json:"nats"`
	}
	if json.Unmarshal(b, &ports) != nil || len(ports.Nats) == 0 {
		return ""
	}
	return ports.Nats[0]
}

func TestPublishesEventsInOrder(t *testing.T) {
	url, _ := startNATS(t)
	sub, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	msgs := make(chan *nats.Msg, 100)
	if _, err := sub.ChanSubscribe("zkx.events.>", msgs); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}

	p, err := newPublisher(options{url: url, subject: "zkx.events", timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := notifiertest.Start(t, p)
	batch := []notifier.Event{
		{Type: notifier.EventCreated, Path: "/app/x", Zxid: 5, Data: []byte("v"), HasData: true},
		{Type: notifier.EventChildrenChanged, Path: "/app", Zxid: 5},
		{Type: notifier.EventDeleted, Path: "/app/x", Zxid: 6},
		{Type: notifier.EventGap, Zxid: 9, GapStart: 7, GapEnd: 9},
	}
	if err := c.Notify(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if err := c.Health(context.Background()); err != nil {
		t.Errorf("health: %v", err)
	}
	want := []struct{ subject, id string }{
		{"zkx.events.created", "5/created//app/x"},
		{"zkx.events.children", "5/children//app"},
		{"zkx.events.deleted", "6/deleted//app/x"},
		{"zkx.events.gap", "9/gap/"},
	}
	for i, w := range want {
		select {
		case m := <-msgs:
			var e jsonevent.Event
			if err := json.Unmarshal(m.Data, &e); err != nil {
				t.Fatal(err)
			}
			if m.Subject != w.subject || m.Header.Get(nats.MsgIdHdr) != w.id || e.Zxid != batch[i].Zxid || e.Path != batch[i].Path {
				t.Errorf("message %d: %s %v %s", i, m.Subject, m.Header, m.Data)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d did not arrive", i)
		}
	}
}

func TestFailsWhileServerIsDown(t *testing.T) {
	url, stop := startNATS(t)
	p, err := newPublisher(options{url: url, subject: "zkx.events", timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := notifiertest.Start(t, p)
	stop()
	deadline := time.Now().Add(20 * time.Second)
	for p.nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("client did not notice the server going away")
		}
		time.Sleep(10 * time.Millisecond)
	}
	err = c.Notify(context.Background(), []notifier.Event{{Type: notifier.EventCreated, Path: "/a", Zxid: 1}})
	if err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Errorf("Notify while down = %v, want a not-connected error", err)
	}
	if err := c.Health(context.Background()); err == nil {
		t.Error("health is ok while disconnected")
	}
}
