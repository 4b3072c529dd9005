// Package admin implements zkx's offline maintenance commands on a badger
// data directory: backup, restore and dump. cmd/zkx parses the flags and
// calls these functions; each works on a directory that no running zkx
// has open (badger's directory lock enforces it) and returns errors that
// name the file or directory and say what to do.
//
// # Backup and restore
//
// BackupFile writes a consistent snapshot of a store to one file: a small
// header (magic, header version, store format, last zxid, stream length
// and SHA-256) followed by badger's own backup stream (see
// pkg/storage/badger). The file is written under a temporary name, synced
// and renamed into place, so a file with the final name is always
// complete. RestoreFile verifies the whole file before it touches the
// target directory, restores only into a missing or empty directory unless
// told to replace its contents, and reads the restored store back before
// reporting success.
//
// # Dump
//
// Dump writes the store as JSON lines: one "node" line per znode sorted by
// path (the tree clients would see after a restart, the special
// /zookeeper nodes included), then one "session" line per stored session
// sorted by id, then one "end" line with the last zxid and the counts.
// Stats are the client view (the 11 fields a client's getData returns),
// computed the way zkx computes them when serving. Session passwords are
// never written.
//
// # Concurrency
//
// The functions are safe to call from several goroutines on different
// directories; on the same directory the second caller fails with
// badger.ErrLocked.
package admin
