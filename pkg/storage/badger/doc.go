// Package badger is the durable storage.Backend of zkx, on a badger v4
// key-value database kept in one data directory.
//
// # Model
//
// The store is the key-value image described in pkg/storage: one record
// per znode, one per session and the last committed zxid. Each Commit
// overwrites or deletes the records its batch names; Load walks them back
// out at startup. Nothing is ever read on the request path: zkx answers
// reads from its in-memory tree.
//
// # Key layout
//
// Every key starts with a prefix naming its record kind:
//
//	n/<path>               node: the znode at <path> (e.g. "n//app/lock")
//	s/<id, 8 bytes BE>     session: the session with that id
//	m/format               meta: store format version, uint32 big-endian
//	m/lastzxid             meta: largest committed zxid, int64 big-endian
//	m/walseq               meta: last write-ahead log record applied
//	e/<zxid><seq>          change log: a block of events, keyed by its first (changelog.go)
//	m/evhorizon            change log: events at or below it may be gone
//
// m/format is zkx's marker: Open refuses a badger database without it
// (unless the database is empty) and one whose version is newer than this
// build reads.
//
// # Records
//
// Records are a small binary encoding (encoding/binary) whose first byte is
// the record version. A node record holds every field of storage.Node but
// the path (in the key): a flags byte (bit 0: the data is null, so nil and
// empty data stay distinct), the zxids, times, versions, stored ephemeral
// owner and pzxid as fixed-width big-endian integers, the ACL list
// (length-prefixed strings) and the length-prefixed data. A session record
// holds the timeout and the password. Decoding checks every length and
// rejects trailing bytes; a record that fails makes Load return ErrCorrupt
// naming its key.
//
// # Commits and durability
//
// Commit encodes its batch in the caller's goroutine and hands it to a
// single committer goroutine. The committer takes every commit waiting at
// that moment (up to maxGroup) and appends them as ONE record to zkx's
// write-ahead log (wal.go), followed, with Options.Sync, by one
// fdatasync: group commit. Then each caller gets its answer. A Commit that
// returned nil with Options.Sync survives a power loss.
//
// Badger itself is written afterwards by an applier goroutine (apply.go),
// every 500 ms or every 16 MiB, in large transactions, in log order, each
// recording the log position it reached (m/walseq). With Options.Sync
// badger runs with SyncWrites, so these writes are durable when they
// return, and the log segments they cover are deleted. Load and Events
// first wait for the applier, so readers see every committed batch.
//
// Why a log in front of badger: a synced badger commit costs several
// fdatasyncs (its memtable's mmapped log and its value log), about 0.8 ms
// here against 0.1-0.2 ms for one fdatasync of a preallocated log. Why not
// badger with SyncWrites off and DB.Sync: DB.Sync syncs only the memtable
// and value-log files badger is writing at that moment, so a write that
// landed in a memtable rotated away before the Sync could be acknowledged
// and lost. Badger's own SyncWrites has no such gap, so it is used for the
// applier's writes, where its cost is paid once per interval.
//
// At Open, every log record past m/walseq is applied to badger (records
// hold final states of keys, so applying one twice is harmless), badger is
// synced, and a new log is started. A record torn by a crash is the tail
// of the last segment and was never acknowledged; it is dropped. Damage
// anywhere else is reported as ErrCorrupt.
//
// Without Options.Sync, neither the log nor badger is synced: a Commit
// that returned nil survives a crash of zkx but not a power loss or a
// kernel crash, which lose the last moments of acknowledged writes. Use it
// only for data you can afford to lose.
//
// # Batches larger than a badger transaction
//
// Badger caps a transaction at 15% of the memtable size. The applier fills
// a transaction until it is full, commits it and continues in a new one,
// holding applyMu so no Load snapshot sees part of its work, and records
// the log position only in the last one. A crash in between leaves the
// log records in place and Open applies them again, so a batch of any size
// is all-or-nothing across crashes.
//
// # Data directory
//
// A missing data directory is created (its parent must exist) and logged
// as "initialising new data dir". An existing one must be empty (a
// lost+found entry is ignored) or hold a zkx store. Badger locks the
// directory with flock, so a second zkx on the same directory fails with
// ErrLocked instead of corrupting it.
//
// # Memory
//
// The defaults (DefaultMemTableSize and friends) keep badger to a few tens
// of MiB: two 8 MiB memtables, an 8 MiB block cache, a 4 MiB index cache
// and 64 MiB value-log files. Value-log garbage collection runs every
// Options.GCInterval in the background and stops on Close.
package badger
