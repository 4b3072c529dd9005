// Package plugins holds the notifier plugins shipped with zkx, one command
// per directory, each built on sdk/notifier:
//
//   - log: JSON lines to a file (rotated by size) or stderr
//   - webhook: HTTP POST of JSON batches, signed with HMAC-SHA256
//   - nats: one NATS message per event
//
// Build them with `go build -o bin/zkx-notifier-<name> ./plugins/<name>` and
// list them under notifiers in config.yaml.
package plugins
