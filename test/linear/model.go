package linear

import (
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/anishathalye/porcupine"
)

// Kind is an operation on a key.
type Kind uint8

const (
	// Read is getData (after sync, when the client syncs): it returns the value and version.
	Read Kind = iota + 1
	// Write is setData with version -1: it always succeeds and returns the new version.
	Write
	// CAS is setData with an expected version: it returns the new version, or BadVersion.
	CAS
)

func (k Kind) String() string {
	switch k {
	case Read:
		return "read"
	case Write:
		return "write"
	case CAS:
		return "cas"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Input is an operation as the client sent it.
type Input struct {
	Kind Kind
	// Key names the znode, typically its path.
	Key string
	// Value is the data a Write or CAS sets; unique within the key.
	Value string
	// Expect is a CAS's expected version.
	Expect int32
}

// Output is what an operation returned.
type Output struct {
	// Unknown means the reply never came: a Write or CAS may or may not have taken effect.
	Unknown bool
	// Value is the data a Read returned.
	Value string
	// Version is the version a Read returned, or the new version a Write or successful CAS
	// returned.
	Version int32
	// BadVersion is set when a CAS was refused because the version was another.
	BadVersion bool
	// NoNode is set when the operation found no node (ErrNoNode). The keys exist throughout
	// a history, so no state allows it: it is recorded to be reported, not dropped.
	NoNode bool
	// Err says why the outcome is unknown; it is shown in visualizations only.
	Err string
}

// State is one key's state: its data and version.
type State struct {
	Value   string
	Version int32
}

func (s State) String() string { return fmt.Sprintf("%q v%d", s.Value, s.Version) }

// Step is the sequential specification of one key: whether an operation with input in can
// return out in state st, and the state after it.
func Step(st State, in Input, out Output) (bool, State) {
	if out.NoNode && !out.Unknown {
		return false, st
	}
	switch in.Kind {
	case Read:
		if out.Unknown {
			return true, st
		}
		return out.Value == st.Value && out.Version == st.Version, st
	case Write:
		next := State{Value: in.Value, Version: st.Version + 1}
		if out.Unknown {
			return true, next
		}
		return !out.BadVersion && out.Version == next.Version, next
	case CAS:
		if st.Version != in.Expect {
			// Refused: nothing changes, whether or not the client heard so.
			return out.Unknown || out.BadVersion, st
		}
		next := State{Value: in.Value, Version: st.Version + 1}
		if out.Unknown {
			return true, next
		}
		return !out.BadVersion && out.Version == next.Version, next
	}
	return false, st
}

// Model is the porcupine model of a set of keys, partitioned by key; every key starts in
// State{} (empty data, version 0).
func Model() porcupine.Model {
	return porcupine.Model{
		Partition: partitionByKey,
		Init:      func() any { return State{} },
		Step: func(state, input, output any) (bool, any) {
			return Step(state.(State), input.(Input), output.(Output))
		},
		Equal: func(a, b any) bool { return a.(State) == b.(State) },
		Hash: func(state any) uint64 {
			s := state.(State)
			h := fnv.New64a()
			h.Write([]byte(s.Value))
			return h.Sum64() ^ uint64(uint32(s.Version))*0x9e3779b97f4a7c15
		},
		DescribeOperation: func(input, output any) string {
			return Describe(input.(Input), output.(Output))
		},
		DescribeState: func(state any) string { return state.(State).String() },
	}
}

// partitionByKey splits a history into one history per key, in order of first appearance.
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	index := map[string]int{}
	var out [][]porcupine.Operation
	for _, op := range history {
		k := op.Input.(Input).Key
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], op)
	}
	return out
}

// Describe renders an operation and its result, e.g. `cas /k1 v3 "c2-17" -> v4`.
func Describe(in Input, out Output) string {
	var op string
	switch in.Kind {
	case Read:
		op = "read " + in.Key
	case Write:
		op = fmt.Sprintf("write %s %q", in.Key, in.Value)
	case CAS:
		op = fmt.Sprintf("cas %s v%d %q", in.Key, in.Expect, in.Value)
	default:
		op = fmt.Sprintf("%v %s", in.Kind, in.Key)
	}
	switch {
	case out.Unknown:
		if out.Err != "" {
			return op + " -> ? (" + out.Err + ")"
		}
		return op + " -> ?"
	case out.NoNode:
		return op + " -> NoNode"
	case out.BadVersion:
		return op + " -> BadVersion"
	case in.Kind == Read:
		return fmt.Sprintf("%s -> %q v%d", op, out.Value, out.Version)
	default:
		return fmt.Sprintf("%s -> v%d", op, out.Version)
	}
}
