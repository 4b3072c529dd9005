package persistent

import (
	"runtime"
	"strconv"
	"testing"
)

// benchPath returns the i-th path of a three-level layout under top, e.g.
// "/other/s17/n1234".
func benchPath(top string, i int) string {
	b := make([]byte, 0, len(top)+20)
	b = append(b, top...)
	b = append(b, "/s"...)
	b = strconv.AppendInt(b, int64(i%100), 10)
	b = append(b, "/n"...)
	b = strconv.AppendInt(b, int64(i/100), 10)
	return string(b)
}

// BenchmarkMatchData measures one data-table lookup for a path five levels
// deep, with a recursive watch on one ancestor and a persistent watch on the
// path itself, while n unrelated recursive watches exist elsewhere in the
// tree. The figures must stay flat as n grows: the radix walk visits only
// the ancestors of the changed path.
func BenchmarkMatchData(b *testing.B) {
	const changed = "/app/svc/shard/node/leaf"
	for _, n := range []int{0, 10, 1_000, 100_000, 1_000_000} {
		b.Run("unrelated="+strconv.Itoa(n), func(b *testing.B) {
			x := New()
			for i := 0; i < n; i++ {
				x.Add(benchPath("/other", i), uint64(i%1000+10), Recursive)
			}
			if n > 0 {
				x.Add("/app/svc", 1, Recursive)
			}
			x.Add(changed, 2, Persistent)
			want := 1
			if n > 0 {
				want = 2
			}
			var got int
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				got = 0
				x.MatchData(changed, func(uint64) { got++ })
			}
			if got != want {
				b.Fatalf("matched %d watchers, want %d", got, want)
			}
		})
	}
}

// BenchmarkMatchDataFanOut measures a recursive watch on "/" held by 1,000
// connections plus one on the changed path's parent: the merge path.
func BenchmarkMatchDataFanOut(b *testing.B) {
	x := New()
	for w := uint64(0); w < 1000; w++ {
		x.Add("/", w, Recursive)
	}
	x.Add("/a/b", 5000, Recursive)
	var got int
	b.ReportAllocs()
	for b.Loop() {
		got = 0
		x.MatchData("/a/b/c", func(uint64) { got++ })
	}
	if got != 1001 {
		b.Fatalf("matched %d, want 1001", got)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMemory measures the heap held per registered watch: 1,000,000
// watches of one mode from 1,000 connections (1,000 each), over 100,000
// paths (10 watchers each) or 1,000,000 paths (one each, the case that
// costs most per watch). Path strings are created inside the measured
// window and kept only by the index, so their bytes count. Run with
// -benchtime=1x and read B/watch.
func BenchmarkMemory(b *testing.B) {
	const (
		conns    = 1000
		perConn  = 1000
		nWatches = conns * perConn
	)
	for _, m := range []Mode{Persistent, Recursive} {
		for _, nPaths := range []int{100_000, 1_000_000} {
			b.Run(m.String()+"/paths="+strconv.Itoa(nPaths), func(b *testing.B) {
				b.ReportAllocs()
				var perWatch float64
				for b.Loop() {
					before := heapInUse()
					x := New()
					for c := 0; c < conns; c++ {
						start := c * (nPaths / conns)
						for j := 0; j < perConn; j++ {
							x.Add(benchPath("/svc", (start+j)%nPaths), uint64(c+1), m)
						}
					}
					after := heapInUse()
					if x.Len(m) != nWatches {
						b.Fatalf("Len = %d, want %d", x.Len(m), nWatches)
					}
					perWatch = float64(after-before) / nWatches
					runtime.KeepAlive(x)
				}
				b.ReportMetric(perWatch, "B/watch")
			})
		}
	}
}
