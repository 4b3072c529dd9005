package server

import (
	"crypto/rand"
	"time"

	"github.com/zkx-dev/zkx/pkg/storage"
)

// session is a client session. Fields are guarded by Server.mu.
type session struct {
	id       int64
	passwd   []byte
	timeout  time.Duration
	expireAt int64 // unix ms, a multiple of the tick; 0 when not queued
	conn     *conn // the attached connection, nil while disconnected
	closing  bool  // closeSession or expiry under way: refuse everything
	expiring bool  // the leader proposed its expiry; not proposed again
}

// sessionTable tracks sessions and their expiry in tick-sized buckets
// (ZooKeeper's ExpiryQueue): touching a session moves it to the bucket of
// the first tick boundary after now+timeout, and expiry pops whole buckets.
// Guarded by Server.mu.
type sessionTable struct {
	tick    int64 // ms
	byID    map[int64]*session
	buckets map[int64]map[*session]struct{}
	next    int64 // the next bucket boundary to expire
	nextID  int64
}

func newSessionTable(tick time.Duration, now time.Time) *sessionTable {
	ms := now.UnixMilli()
	t := &sessionTable{
		tick:    max(tick.Milliseconds(), 1),
		byID:    make(map[int64]*session),
		buckets: make(map[int64]map[*session]struct{}),
		// Session ids start at (now << 24) >>> 8, like ZooKeeper with
		// server id 0: unique across restarts that are a millisecond apart.
		nextID: int64(uint64(ms<<24) >> 8),
	}
	t.next = t.roundUp(ms)
	return t
}

func (t *sessionTable) roundUp(ms int64) int64 { return (ms/t.tick + 1) * t.tick }

func (t *sessionTable) create(timeout time.Duration, now time.Time) *session {
	return t.add(t.newID(), newPasswd(), timeout, now)
}

// newID hands out the next session id.
func (t *sessionTable) newID() int64 {
	id := t.nextID
	t.nextID++
	if t.nextID == -0x8000000000000000 { // the container marker is never a session
		t.nextID++
	}
	return id
}

// setMember puts an ensemble member's id in the high byte of the session
// ids this table hands out, as ZooKeeper does with its server id, so
// members never hand out the same id.
func (t *sessionTable) setMember(id int) {
	t.nextID = int64(id)<<56 | t.nextID&(1<<56-1)
}

func newPasswd() []byte {
	pw := make([]byte, 16)
	rand.Read(pw)
	return pw
}

// add records a session with a given id and password.
func (t *sessionTable) add(id int64, passwd []byte, timeout time.Duration, now time.Time) *session {
	s := &session{id: id, passwd: passwd, timeout: timeout}
	t.byID[id] = s
	t.touch(s, now)
	return s
}

// restore re-creates a persisted session, giving it one full timeout from
// now to reconnect.
func (t *sessionTable) restore(p storage.Session, now time.Time) *session {
	s := &session{id: p.ID, passwd: append([]byte(nil), p.Passwd...), timeout: time.Duration(p.Timeout) * time.Millisecond}
	t.byID[s.id] = s
	if s.id >= t.nextID && s.id>>56 == t.nextID>>56 {
		t.nextID = s.id + 1
	}
	t.touch(s, now)
	return s
}

func (t *sessionTable) get(id int64) *session { return t.byID[id] }

func (t *sessionTable) touch(s *session, now time.Time) {
	at := t.roundUp(now.UnixMilli() + s.timeout.Milliseconds())
	if at == s.expireAt {
		return
	}
	t.unqueue(s)
	b := t.buckets[at]
	if b == nil {
		b = make(map[*session]struct{})
		t.buckets[at] = b
	}
	b[s] = struct{}{}
	s.expireAt = at
}

func (t *sessionTable) unqueue(s *session) {
	if s.expireAt == 0 {
		return
	}
	if b := t.buckets[s.expireAt]; b != nil {
		delete(b, s)
		if len(b) == 0 {
			delete(t.buckets, s.expireAt)
		}
	}
	s.expireAt = 0
}

func (t *sessionTable) remove(s *session) {
	t.unqueue(s)
	delete(t.byID, s.id)
}

// expired pops every session whose bucket boundary is at or before now.
func (t *sessionTable) expired(now time.Time) []*session {
	ms := now.UnixMilli()
	var out []*session
	for ; t.next <= ms; t.next += t.tick {
		for s := range t.buckets[t.next] {
			out = append(out, s)
			s.expireAt = 0
		}
		delete(t.buckets, t.next)
	}
	return out
}

// nextDue returns the boundary of the earliest non-empty bucket.
func (t *sessionTable) nextDue() (int64, bool) {
	var due int64
	for at := range t.buckets {
		if due == 0 || at < due {
			due = at
		}
	}
	return due, due != 0
}

func (t *sessionTable) len() int { return len(t.byID) }

func (s *session) record() storage.Session {
	return storage.Session{ID: s.id, Timeout: int32(s.timeout.Milliseconds()), Passwd: s.passwd}
}
