package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zkx-dev/zkx/plugins/internal/jsonevent"
	"github.com/zkx-dev/zkx/sdk/notifier"
)

type options struct {
	url, subject, creds string
	timeout             time.Duration
}

// publisher is the plugin. Its methods are safe for concurrent use.
type publisher struct {
	o  options
	nc *nats.Conn
}

var (
	_ notifier.Notifier      = (*publisher)(nil)
	_ notifier.HealthChecker = (*publisher)(nil)
)

func newPublisher(o options) (*publisher, error) {
	if o.subject == "" {
		return nil, errors.New("--subject must not be empty")
	}
	if o.timeout <= 0 {
		o.timeout = 5 * time.Second
	}
	opts := []nats.Option{
		nats.Name("zkx-notifier-nats"),
		nats.Timeout(o.timeout),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		// Fail publishes while disconnected, so zkx keeps the batch and
		// retries it, instead of a buffer that a crash would lose.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Printf("zkx-notifier-nats: disconnected: %v", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Printf("zkx-notifier-nats: reconnected to %s", c.ConnectedUrl())
		}),
	}
	if o.creds != "" {
		opts = append(opts, nats.UserCredentials(o.creds))
	}
	nc, err := nats.Connect(o.url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", o.url, err)
	}
	return &publisher{o: o, nc: nc}, nil
}

// Notify publishes the batch in order and waits for the server to confirm.
func (p *publisher) Notify(ctx context.Context, events []notifier.Event) error {
	if !p.nc.IsConnected() {
		return fmt.Errorf("not connected to %s (status %s)", p.o.url, p.nc.Status())
	}
	for _, e := range events {
		b, err := json.Marshal(jsonevent.From(e))
		if err != nil {
			return err
		}
		m := nats.NewMsg(p.o.subject + "." + e.Type.String())
		m.Data = b
		m.Header.Set("Zkx-Zxid", strconv.FormatInt(e.Zxid, 10))
		m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("%d/%s/%s", e.Zxid, e.Type, e.Path))
		if err := p.nc.PublishMsg(m); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
	}
	fctx, cancel := context.WithTimeout(ctx, p.o.timeout)
	defer cancel()
	if err := p.nc.FlushWithContext(fctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// Health reports whether the connection is up.
func (p *publisher) Health(context.Context) error {
	if !p.nc.IsConnected() {
		return fmt.Errorf("not connected (status %s)", p.nc.Status())
	}
	return nil
}

// Close drains and closes the connection.
func (p *publisher) Close() { p.nc.Close() }
