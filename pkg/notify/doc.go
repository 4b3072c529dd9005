// Package notify is the notifier plugin host: it runs the plugins listed
// under notifiers in config.yaml as separate processes (through
// hashicorp/go-plugin, speaking the protocol of sdk/notifier) and pushes
// the server's watch events to them.
//
// # Model
//
// The server calls Host.Sink with the events of each transaction once it
// is durable, in zxid order, from its commit goroutine. Sink never waits
// for a plugin: for each plugin it filters the events (by subtree, whole
// path segments, and by type) and appends them to that plugin's bounded
// queue, or — when the queue is full — marks the plugin as lagging and
// drops them from the queue. Each plugin has one sender goroutine that
// takes batches (up to BatchSize events, waiting at most BatchDelay to
// fill one, never splitting a transaction) and calls the plugin's Notify.
//
// # Delivery guarantee
//
// Delivery is in zxid order and at least once. A batch is removed from the
// sender only when the plugin acknowledges it; if the plugin crashes,
// times out or returns an error, the same batch is sent again (Status
// counts these as Redelivered). After each acknowledged batch the
// plugin's position — the zxid up to which every event for it was
// acknowledged — is written to <DataDir>/<name>.ack atomically (temporary
// file, fsync, rename).
//
// A lagging plugin, and every plugin at startup that has an ack file, is
// fed from the History (the change log) starting after its position,
// batch by batch, until it reaches the newest transaction, and then goes
// back to its queue. When the history no longer reaches back to the
// position, the plugin receives an event of type notifier.EventGap
// naming the zxid range it may have missed, and delivery continues after
// it. Events are never skipped without such an event.
//
// The History is either a storage backend's durable change log (adapted
// with FromChangeLog; zkx uses the badger backend's), so delivery resumes
// across a server restart as far back as the log's retention reaches, or,
// by default, a Ring the host keeps in memory. A Ring knows only the
// events of the current server process, so after a server restart a plugin
// that had not caught up gets a gap covering what happened between its
// position and the first new transaction.
//
// A plugin resuming from its ack file does not wait for a new write: at
// Start (and after each restart of the plugin) it reads the history from
// its position to the end of what the history holds, then switches to its
// queue; transactions offered meanwhile are read from the history too, and
// a late Sink of a transaction already read is not delivered again. The
// host's own Ring is the exception: empty after a server restart, it
// cannot tell how far the plugin is behind, so that plugin's gap event
// waits for the first transaction of the new run. A plugin that has never
// run (no ack file) starts with the first transaction after the host
// starts.
//
// # Failures
//
// A plugin that crashes, exits at start or does not answer within
// NotifyTimeout is killed and restarted with exponential backoff
// (MinBackoff doubling up to MaxBackoff); after MaxFailures failures in a
// row (ErrCrashLoop) it is reported failed. A plugin whose binary does not
// match its pinned SHA-256, that is not a plugin, that speaks another
// protocol version, or that rejects its configuration is reported failed
// at once: starting it again right away would fail the same way. A failed
// plugin stops receiving events — nothing is queued for it, its queue is
// dropped — and the server keeps serving. Everything is logged with the
// plugin's name, and Host.Status returns each plugin's state, restarts,
// queue depth, position, gaps and failure record; Host.Monitor writes the
// same figures as mntr keys (zkx serve wires it to the client port).
//
// # Recovery
//
// A failed plugin is not given up for good: after RetryFailedAfter (default
// 5m) it is started again from scratch, with a fresh failure count, so an
// operator who replaced a broken binary, or a downstream that came back,
// does not need a restart of zkx. Delivery then resumes after the plugin's
// acknowledged position through the History, exactly as for a lagging
// plugin: every event it missed while failed, in zxid order, or a gap
// event for what the history no longer holds. A plugin that never
// acknowledged anything resumes with the first transaction after the host
// started, as it would have at its first start.
//
// Every kind of failure is retried, the permanent ones included, because
// each can be cured without touching zkx: a checksum mismatch by putting
// the pinned binary back at the command path, a non-plugin or a plugin of
// another protocol version by installing the right one, a rejected
// configuration by a plugin version (or a plugin environment) that accepts
// it. What zkx itself sends cannot change without a restart, so a failure
// that really is permanent repeats once per RetryFailedAfter: one process
// start and a few log lines, which also keep reminding the operator. A
// negative RetryFailedAfter disables retrying on a timer.
//
// Host.RetryFailed starts every failed plugin again at once, whatever
// RetryFailedAfter says, for an operator who has just fixed the cause; zkx
// serve calls it on SIGHUP. A request made while a plugin is still running
// does not carry over to its next failure.
//
// Status shows the cycle honestly: State is StateFailed with Err, FailedAt
// and RetryAt set while the plugin waits, then StateStarting and
// StateRunning (or StateFailed again); Failures counts the times it
// entered StateFailed, and Restarts counts the new process.
//
// Plugins log to stderr; each line is logged by the host at info level
// with the plugin's name.
package notify
