// Command zkx-notifier-nats is a zkx notifier plugin that publishes each
// event as one NATS message.
//
//	notifiers:
//	  - name: bus
//	    command: ./bin/zkx-notifier-nats
//	    args: ["--url", "nats://127.0.0.1:4222", "--subject", "zkx.events"]
//
// An event goes to SUBJECT.TYPE (zkx.events.created, .deleted, .data,
// .children, .gap), so subscribers can pick types with NATS wildcards. The
// body is the event's JSON (see plugins/internal/jsonevent); headers are
// Zkx-Zxid and Nats-Msg-Id ("zxid/type/path"), which JetStream uses to
// drop the duplicates at-least-once delivery may produce. A batch is
// acknowledged to zkx only after the NATS server has confirmed receiving
// it (a flush); while disconnected, publishing fails instead of buffering,
// so zkx retries the batch.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/zkx-dev/zkx/sdk/notifier"
)

func main() {
	var o options
	flag.StringVar(&o.url, "url", "nats://127.0.0.1:4222", "NATS server URL(s), comma-separated")
	flag.StringVar(&o.subject, "subject", "zkx.events", "subject prefix; the event type is appended")
	flag.StringVar(&o.creds, "creds", "", "NATS credentials file")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Second, "connect and flush timeout")
	flag.Parse()
	p, err := newPublisher(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkx-notifier-nats:", err)
		os.Exit(1)
	}
	defer p.Close()
	notifier.Serve(p)
}
