package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/zkx-dev/zkx/plugins/internal/jsonevent"
	"github.com/zkx-dev/zkx/sdk/notifier"
)

// SignatureHeader carries "sha256=" + hex(HMAC-SHA256(secret, body)).
const SignatureHeader = "X-Zkx-Signature"

// DeliveryHeader carries the batch's zxid range, "FIRST-LAST".
const DeliveryHeader = "X-Zkx-Delivery"

type options struct {
	url     string
	secret  []byte
	timeout time.Duration
	retries int
	backoff time.Duration
	headers [][2]string
}

// webhook is the plugin. Notify is safe for concurrent use.
type webhook struct {
	o      options
	client *http.Client

	mu      sync.Mutex
	lastErr error
}

var (
	_ notifier.Notifier      = (*webhook)(nil)
	_ notifier.HealthChecker = (*webhook)(nil)
)

func newWebhook(o options) (*webhook, error) {
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want an http or https URL", o.url)
	}
	if o.timeout <= 0 || o.retries < 0 || o.backoff < 0 {
		return nil, errors.New("--timeout must be positive, --retries and --backoff not negative")
	}
	return &webhook{o: o, client: &http.Client{Timeout: o.timeout}}, nil
}

// body is the JSON document POSTed.
type body struct {
	Events []jsonevent.Event `json:"events"`
}

// Sign returns the signature header value of payload under secret.
func Sign(secret, payload []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(payload)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Notify POSTs the batch, retrying transient failures.
func (w *webhook) Notify(ctx context.Context, events []notifier.Event) error {
	if len(events) == 0 {
		return nil
	}
	payload, err := json.Marshal(body{Events: jsonevent.FromAll(events)})
	if err != nil {
		return err
	}
	delivery := fmt.Sprintf("%d-%d", events[0].Zxid, events[len(events)-1].Zxid)
	wait := w.o.backoff
	for attempt := 0; ; attempt++ {
		retry, err := w.post(ctx, payload, delivery)
		w.mu.Lock()
		w.lastErr = err
		w.mu.Unlock()
		if err == nil {
			return nil
		}
		if !retry || attempt >= w.o.retries {
			return fmt.Errorf("POST %s (attempt %d): %w", w.o.url, attempt+1, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// post makes one request; retry reports whether a failure is transient.
func (w *webhook) post(ctx context.Context, payload []byte, delivery string) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.o.url, bytes.NewReader(payload))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "zkx-notifier-webhook")
	req.Header.Set(DeliveryHeader, delivery)
	if len(w.o.secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(w.o.secret, payload))
	}
	for _, h := range w.o.headers {
		req.Header.Set(h[0], h[1])
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return ctx.Err() == nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("status %s", resp.Status)
	}
	return false, fmt.Errorf("status %s (not retried)", resp.Status)
}

// Health reports the outcome of the last request.
func (w *webhook) Health(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}
