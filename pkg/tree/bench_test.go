package tree

import (
	"strconv"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

func BenchmarkCreate(b *testing.B) {
	tr := New()
	mustApply(b, tr, txAt(1), mk("/bench"))
	data := make([]byte, 128)
	paths := make([]string, b.N)
	for i := range paths {
		paths[i] = "/bench/n" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := tr.Apply(Txn{Zxid: int64(i + 2)}, Create{Path: paths[i], Data: data, ACL: znode.OpenACLUnsafe, TTL: -1})
		if out.Err != nil {
			b.Fatal(out.Err)
		}
	}
}

func BenchmarkCreateSequential(b *testing.B) {
	tr := New()
	mustApply(b, tr, txAt(1), mk("/q"))
	data := make([]byte, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := tr.Apply(Txn{Zxid: int64(i + 2), Session: sess}, Create{Path: "/q/lock-", Data: data, ACL: znode.OpenACLUnsafe, Mode: znode.ModeEphemeralSequential, TTL: -1})
		if out.Err != nil {
			b.Fatal(out.Err)
		}
	}
}

func BenchmarkSetData(b *testing.B) {
	tr := New()
	mustApply(b, tr, txAt(1), mk("/a"), mk("/a/b"), mk("/a/b/c"))
	data := make([]byte, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := tr.Apply(Txn{Zxid: int64(i + 2)}, SetData{Path: "/a/b/c", Data: data, Version: -1})
		if out.Err != nil {
			b.Fatal(out.Err)
		}
	}
}

func BenchmarkGetData(b *testing.B) {
	tr := New()
	mustApply(b, tr, txAt(1), mk("/a"), mk("/a/b"), mk("/a/b/c"))
	auth := []znode.ID{{Scheme: "ip", ID: "127.0.0.1"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := tr.GetData("/a/b/c", auth); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMulti(b *testing.B) {
	tr := New()
	mustApply(b, tr, txAt(1), mk("/m"))
	data := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := tr.Apply(Txn{Zxid: int64(i + 2)},
			Check{Path: "/m", Version: -1},
			Create{Path: "/m/x", Data: data, ACL: znode.OpenACLUnsafe, TTL: -1},
			SetData{Path: "/m/x", Data: data, Version: 0},
			Delete{Path: "/m/x", Version: 1},
		)
		if out.Err != nil {
			b.Fatal(out.Err)
		}
	}
}
