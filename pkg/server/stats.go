package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// stats are the server counters behind srvr, stat and mntr.
type stats struct {
	connections     atomic.Int64 // accepted, ever
	writes          atomic.Int64
	commits         atomic.Int64
	notifications   atomic.Int64
	expired         atomic.Int64
	authFailed      atomic.Int64
	replayed        atomic.Int64
	storageFailures atomic.Int64

	mu      sync.Mutex
	count   int64
	totalNs int64
	minNs   int64
	maxNs   int64
}

func (st *stats) observe(d time.Duration) {
	ns := d.Nanoseconds()
	st.mu.Lock()
	st.count++
	st.totalNs += ns
	if st.count == 1 || ns < st.minNs {
		st.minNs = ns
	}
	st.maxNs = max(st.maxNs, ns)
	st.mu.Unlock()
}

// latency returns min/avg/max request latency in milliseconds.
func (st *stats) latency() (minMs, avgMs float64, maxMs float64, n int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.count == 0 {
		return 0, 0, 0, 0
	}
	return float64(st.minNs) / 1e6, float64(st.totalNs) / float64(st.count) / 1e6, float64(st.maxNs) / 1e6, st.count
}

func (st *stats) reset() {
	st.mu.Lock()
	st.count, st.totalNs, st.minNs, st.maxNs = 0, 0, 0, 0
	st.mu.Unlock()
}
