// Command zkx-notifier-webhook is a zkx notifier plugin that POSTs each
// batch of events as JSON to a URL.
//
//	notifiers:
//	  - name: hook
//	    command: ./bin/zkx-notifier-webhook
//	    args: ["--url", "https://example.com/zkx", "--secret-file", "/etc/zkx/hook.secret"]
//
// The body is {"events":[...]} (see plugins/internal/jsonevent). Each
// request carries Content-Type: application/json, X-Zkx-Delivery:
// "FIRST-LAST" (the batch's zxid range, for deduplication: delivery is at
// least once) and, with a secret, X-Zkx-Signature: "sha256=" + the hex
// HMAC-SHA256 of the body keyed with the secret. A receiver verifies it
// with a constant-time comparison before trusting the body.
//
// A request that fails with a network error, a timeout, 429 or a 5xx
// status is retried (--retries times, waiting --backoff, doubling, up to
// 5s between attempts). Any other status fails the batch at once; zkx then
// sends the same batch again later, with its own backoff.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/zkx-dev/zkx/sdk/notifier"
)

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	var o options
	var headers headerFlags
	flag.StringVar(&o.url, "url", "", "URL to POST batches to (required)")
	secretFile := flag.String("secret-file", "", "file holding the HMAC-SHA256 secret")
	secretEnv := flag.String("secret-env", "", "environment variable holding the HMAC-SHA256 secret")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of one request")
	flag.IntVar(&o.retries, "retries", 3, "retries of a failed request before the batch fails")
	flag.DurationVar(&o.backoff, "backoff", 200*time.Millisecond, "wait before the first retry, doubled after each")
	flag.Var(&headers, "header", `extra request header "Name: value" (repeatable)`)
	flag.Parse()

	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "zkx-notifier-webhook: "+format+"\n", args...)
		os.Exit(1)
	}
	switch {
	case *secretFile != "":
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			fail("%v", err)
		}
		o.secret = []byte(strings.TrimSpace(string(b)))
	case *secretEnv != "":
		o.secret = []byte(os.Getenv(*secretEnv))
		if len(o.secret) == 0 {
			fail("environment variable %s is empty", *secretEnv)
		}
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			fail("--header %q: want \"Name: value\"", h)
		}
		o.headers = append(o.headers, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	w, err := newWebhook(o)
	if err != nil {
		fail("%v", err)
	}
	notifier.Serve(w)
}
