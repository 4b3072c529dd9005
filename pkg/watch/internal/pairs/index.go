package pairs

import "hash/maphash"

// pathIndex maps a path to the slot of its pathSet in a table's slab. It is
// an open-addressing hash table with linear probing whose entries are 8
// bytes: the 32-bit hash of the path and the slot number. The path string
// itself is not copied; a lookup compares against the string held by the
// slot. That makes an indexed path cost about 10 bytes here, against some
// 50 for a built-in map[string]uint32, which must keep a 16-byte string
// header per entry and over-allocates by up to twice.
//
// Deletion shifts the following entries back into the hole, so there are
// no tombstones and a probe sequence ends at the first empty entry.
//
// The zero pathIndex is empty and usable; its seed is drawn on the first
// insert.
type pathIndex struct {
	seed    maphash.Seed // zero until the first insert
	entries []uint64     // 0 if empty, else hash<<32 | (slot+1); len is a power of 2
	n       int          // number of paths
}

// minIndexSize is the smallest non-empty entries array.
const minIndexSize = 16

func (x *pathIndex) hash(path string) uint32 {
	return uint32(maphash.String(x.seed, path) >> 32)
}

// lookup returns the slot of path and the position of its entry, using
// sets to compare path strings.
func (x *pathIndex) lookup(sets []pathSet, path string) (ps uint32, at int, ok bool) {
	if x.n == 0 {
		return 0, 0, false
	}
	h := x.hash(path)
	mask := len(x.entries) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := x.entries[i]
		if e == 0 {
			return 0, 0, false
		}
		if uint32(e>>32) == h && sets[uint32(e)-1].path == path {
			return uint32(e) - 1, i, true
		}
	}
}

// insert records that path, which must not be indexed yet, is in slot ps.
func (x *pathIndex) insert(path string, ps uint32) {
	if x.seed == (maphash.Seed{}) {
		x.seed = maphash.MakeSeed()
	}
	if (x.n+1)*4 > len(x.entries)*3 {
		x.resize(max(minIndexSize, 2*len(x.entries)))
	}
	x.put(uint64(x.hash(path))<<32 | uint64(ps+1))
	x.n++
}

// put stores e in the first empty entry of its probe sequence.
func (x *pathIndex) put(e uint64) {
	mask := len(x.entries) - 1
	i := int(e>>32) & mask
	for x.entries[i] != 0 {
		i = (i + 1) & mask
	}
	x.entries[i] = e
}

// remove deletes path, which should be indexed in slot ps; if it is not,
// nothing changes (a probe ends at the first empty entry, so this cannot
// loop).
func (x *pathIndex) remove(path string, ps uint32) {
	if x.n == 0 {
		return
	}
	mask := len(x.entries) - 1
	want := uint32(ps + 1)
	for i := int(x.hash(path)) & mask; x.entries[i] != 0; i = (i + 1) & mask {
		if uint32(x.entries[i]) == want {
			x.removeAt(i)
			return
		}
	}
}

// removeAt deletes the entry at position i and moves later entries of the
// same probe run back so that every entry stays reachable from its home
// position.
func (x *pathIndex) removeAt(i int) {
	mask := len(x.entries) - 1
	for j := (i + 1) & mask; x.entries[j] != 0; j = (j + 1) & mask {
		home := int(x.entries[j]>>32) & mask
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		if (j-home)&mask >= (j-i)&mask {
			x.entries[i] = x.entries[j]
			i = j
		}
	}
	x.entries[i] = 0
	x.n--
	switch {
	case x.n == 0:
		x.entries = nil
	case len(x.entries) > minIndexSize && x.n*8 < len(x.entries):
		x.resize(len(x.entries) / 2)
	}
}

// resize rebuilds the entries array with size entries (a power of 2).
func (x *pathIndex) resize(size int) {
	old := x.entries
	x.entries = make([]uint64, size)
	for _, e := range old {
		if e != 0 {
			x.put(e)
		}
	}
}
