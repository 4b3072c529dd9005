// Package notifier is the SDK for zkx notifier plugins: separate programs
// that receive the watch events of a zkx server (node created, deleted,
// data changed, children changed) and push them somewhere else — a log, a
// webhook, a message bus.
//
// # Writing a plugin
//
// A plugin implements one method and hands itself to Serve from main:
//
//	type printer struct{}
//
//	func (printer) Notify(ctx context.Context, events []notifier.Event) error {
//		for _, ev := range events {
//			log.Printf("%s %s zxid=%d", ev.Type, ev.Path, ev.Zxid)
//		}
//		return nil
//	}
//
//	func main() { notifier.Serve(printer{}) }
//
// The zkx server starts the program itself (it is listed under notifiers in
// config.yaml) and speaks to it over gRPC through hashicorp/go-plugin. The
// plugin's stdout belongs to that protocol: a plugin logs to stderr only
// (the standard log package and log/slog's default logger already do), and
// zkx copies each stderr line into its own log, tagged with the plugin's
// name.
//
// # Delivery
//
// Notify receives a batch of events in zxid order. Returning nil
// acknowledges the whole batch; returning an error makes zkx send the same
// batch again later, with backoff. Delivery is at least once: after a crash
// or a timeout a plugin may see events it has already seen, so a plugin
// that must not repeat a side effect keeps the last zxid it handled and
// skips events at or below it. Events are never reordered.
//
// When zkx had to drop events for a plugin (its queue overflowed and the
// server's change history no longer reaches back far enough, or the server
// restarted without a durable change history), the plugin receives an
// event of type EventGap naming the zxid range it may have missed, before
// any later event. A plugin never sees a silent hole.
//
// # Optional capabilities
//
// A plugin that implements Configurer is told, before its first batch, the
// name and filters it was configured with. One that implements
// HealthChecker is asked for its health periodically; zkx reports the
// answer in its status. Capabilities a plugin does not implement are
// skipped.
//
// # Versioning
//
// The handshake carries ProtocolVersion. zkx refuses a plugin built
// against an SDK with a different protocol version, with an error naming
// both, instead of exchanging messages it might misread.
//
// # Testing
//
// Package notifiertest runs a plugin in-process behind a real gRPC
// connection, so a plugin's test exercises the same encoding zkx uses.
package notifier
