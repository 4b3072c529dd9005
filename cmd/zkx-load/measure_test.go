package main

import (
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		if got := median(append([]float64(nil), tc.in...)); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestWriteTablesPairsRatiosByRound checks that ratios are taken within a
// round: zkx at 2x, 1x and 3x ZooKeeper in three rounds whose speeds
// drift reports 2.00x with the range 1.00-3.00, whatever the medians of
// the raw figures would give.
func TestWriteTablesPairsRatiosByRound(t *testing.T) {
	round := func(kind string, ops float64) result {
		return result{kind: kind, writes: []writeResult{{clients: 16, opsPerSec: ops, p50: time.Millisecond, p99: 2 * time.Millisecond}}}
	}
	r := &report{
		rounds:    3,
		duration:  time.Second,
		clients:   []int{16},
		zkxWrites: [][]result{{round("zkx badger-sync", 2000), round("zkx badger-sync", 5000), round("zkx badger-sync", 9000)}},
		zkWrites:  []result{round("ZooKeeper", 1000), round("ZooKeeper", 5000), round("ZooKeeper", 3000)},
	}
	var b strings.Builder
	r.writeTables(&b)
	out := b.String()
	for _, want := range []string{
		"median of 3 interleaved rounds",
		"| 16 | 5000 | 3000 | 2.00x (1.00-3.00) |",
		"| 16 | 1ms / 2ms | 1ms / 2ms |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
