package oneshot

import (
	"runtime"
	"strconv"
	"testing"
)

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// watchPath returns the i-th benchmark path, shaped like a real layout of
// three levels ("/svc/s17/n1234"), about 16 bytes long.
func watchPath(i int) string {
	b := make([]byte, 0, 24)
	b = append(b, "/svc/s"...)
	b = strconv.AppendInt(b, int64(i%100), 10)
	b = append(b, "/n"...)
	b = strconv.AppendInt(b, int64(i/100), 10)
	return string(b)
}

// BenchmarkMemory measures the heap held per registered one-shot data
// watch: 1,000,000 watches from 1,000 connections (1,000 each), spread
// over a varying number of distinct paths. The path strings are created
// inside the measured window and owned only by the table, as they would
// be when decoded from requests, so their bytes are included.
//
// Run with -benchtime=1x; the figure of interest is the B/watch metric.
func BenchmarkMemory(b *testing.B) {
	const (
		conns    = 1000
		perConn  = 1000
		nWatches = conns * perConn
	)
	for _, nPaths := range []int{10_000, 100_000, 1_000_000} {
		b.Run("paths="+strconv.Itoa(nPaths), func(b *testing.B) {
			b.ReportAllocs()
			var perWatch float64
			for b.Loop() {
				before := heapInUse()
				tb := New()
				// Connection c watches perConn consecutive path numbers
				// starting at a connection-specific offset, so each path
				// gets nWatches/nPaths watchers and no pair repeats.
				for c := 0; c < conns; c++ {
					start := c * (nPaths / conns)
					for j := 0; j < perConn; j++ {
						tb.Add(Data, watchPath((start+j)%nPaths), uint64(c+1))
					}
				}
				after := heapInUse()
				if tb.Len(Data) != nWatches {
					b.Fatalf("Len = %d, want %d", tb.Len(Data), nWatches)
				}
				perWatch = float64(after-before) / nWatches
				runtime.KeepAlive(tb)
			}
			b.ReportMetric(perWatch, "B/watch")
		})
	}
}

// BenchmarkTrigger measures firing a path with 10 watchers and re-arming
// them, the steady state of getData/exists watchers on a busy node.
func BenchmarkTrigger(b *testing.B) {
	tb := New()
	for i := 0; i < 100_000; i++ {
		tb.Add(Data, watchPath(i), uint64(i%1000))
	}
	const path = "/hot"
	var fired int
	b.ReportAllocs()
	for b.Loop() {
		for w := uint64(1); w <= 10; w++ {
			tb.Add(Data, path, w)
		}
		tb.Trigger(Data, path, func(uint64) { fired++ })
	}
	if fired == 0 {
		b.Fatal("nothing fired")
	}
}

// BenchmarkRemoveWatcher measures closing a connection that holds 1,000
// watches among 1,000,000.
func BenchmarkRemoveWatcher(b *testing.B) {
	tb := New()
	const conns, perConn, nPaths = 1000, 1000, 100_000
	for c := 0; c < conns; c++ {
		for j := 0; j < perConn; j++ {
			tb.Add(Data, watchPath((c*(nPaths/conns)+j)%nPaths), uint64(c+1))
		}
	}
	paths := tb.Paths(Data, 1)
	b.ReportAllocs()
	for b.Loop() {
		tb.RemoveWatcher(1)
		b.StopTimer()
		for _, p := range paths {
			tb.Add(Data, p, 1)
		}
		b.StartTimer()
	}
}

// BenchmarkAddRemove measures arming and cancelling one watch on a path of
// its own (the common exists-on-a-missing-node case) in a table holding
// 1,000,000 watches.
func BenchmarkAddRemove(b *testing.B) {
	tb := New()
	const conns, perConn, nPaths = 1000, 1000, 1_000_000
	for c := 0; c < conns; c++ {
		for j := 0; j < perConn; j++ {
			tb.Add(Data, watchPath((c*(nPaths/conns)+j)%nPaths), uint64(c+1))
		}
	}
	paths := make([]string, 1024)
	for i := range paths {
		paths[i] = watchPath(nPaths + i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := paths[i%len(paths)]
		i++
		tb.Add(Data, p, 7)
		tb.Remove(Data, p, 7)
	}
}

// BenchmarkAddRemoveShared measures arming and cancelling a watch on a
// path that ten other connections also watch.
func BenchmarkAddRemoveShared(b *testing.B) {
	tb := New()
	const conns, perConn, nPaths = 1000, 1000, 100_000
	for c := 0; c < conns; c++ {
		for j := 0; j < perConn; j++ {
			tb.Add(Data, watchPath((c*(nPaths/conns)+j)%nPaths), uint64(c+1))
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := watchPath(i % nPaths)
		i++
		tb.Add(Data, p, 5000)
		tb.Remove(Data, p, 5000)
	}
}
