package proto

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

func TestDecoderPrimitives(t *testing.T) {
	d := NewDecoder(mustHex(t, `
		ffffff9b  0000000100000002  00 01 7f
		ffffffff  00000000  00000003 616263
		ffffffff  00000000  00000002 6869
		ffffffff  00000000  00000002 00000001 61 00000000`))
	if v := d.Int32(); v != -101 {
		t.Errorf("Int32 = %d", v)
	}
	if v := d.Int64(); v != 0x100000002 {
		t.Errorf("Int64 = %#x", v)
	}
	if a, b, c := d.Bool(), d.Bool(), d.Bool(); a || !b || !c {
		t.Errorf("Bool = %v %v %v, want false true true", a, b, c)
	}
	if b := d.Buffer(); b != nil {
		t.Errorf("null Buffer = %#v, want nil", b)
	}
	if b := d.Buffer(); b == nil || len(b) != 0 {
		t.Errorf("empty Buffer = %#v, want non-nil empty", b)
	}
	if b := d.Buffer(); string(b) != "abc" {
		t.Errorf("Buffer = %q", b)
	}
	if s := d.String(); s != "" {
		t.Errorf("null String = %q", s)
	}
	if s := d.String(); s != "" {
		t.Errorf("empty String = %q", s)
	}
	if s := d.String(); s != "hi" {
		t.Errorf("String = %q", s)
	}
	if v := d.Strings(); v != nil {
		t.Errorf("null Strings = %#v, want nil", v)
	}
	if v := d.Strings(); v == nil || len(v) != 0 {
		t.Errorf("empty Strings = %#v, want non-nil empty", v)
	}
	if v := d.Strings(); len(v) != 2 || v[0] != "a" || v[1] != "" {
		t.Errorf("Strings = %#v", v)
	}
	if d.Err() != nil || d.Remaining() != 0 {
		t.Errorf("err %v, remaining %d", d.Err(), d.Remaining())
	}
}

func TestDecoderBufferIsACopy(t *testing.T) {
	in := mustHex(t, "00000003 616263 00000002 6465")
	d := NewDecoder(in)
	b, s := d.Buffer(), d.String()
	for i := range in {
		in[i] = 'X'
	}
	if string(b) != "abc" || s != "de" {
		t.Errorf("decoded values changed with the input: %q %q", b, s)
	}
	b = append(b, 'z') // must not write into the input
	if in[7] != 'X' {
		t.Error("appending to a decoded buffer overwrote the input")
	}
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		read func(d *Decoder)
		want string
	}{
		{"short int", "000000", func(d *Decoder) { d.Int32() }, "short int"},
		{"short long", "00000000000000", func(d *Decoder) { d.Int64() }, "short long"},
		{"short bool", "", func(d *Decoder) { d.Bool() }, "short boolean"},
		{"buffer length -2", "fffffffe", func(d *Decoder) { d.Buffer() }, "negative buffer length -2"},
		{"buffer past the end", "00000004 6162", func(d *Decoder) { d.Buffer() }, "exceeds the 2 remaining"},
		{"buffer of 2GB", "7fffffff", func(d *Decoder) { d.Buffer() }, "exceeds the 0 remaining"},
		{"string min int32", "80000000", func(d *Decoder) { _ = d.String() }, "negative string length"},
		{"string past the end", "00000010 41", func(d *Decoder) { _ = d.String() }, "exceeds"},
		{"huge vector count", "7fffffff 00000000", func(d *Decoder) { d.Strings() }, "exceeds"},
		{"vector count larger than elements", "00000002 00000000", func(d *Decoder) { d.Strings() }, "exceeds"},
		{"vector count -5", "fffffffb", func(d *Decoder) { d.Strings() }, "negative"},
		{"vector element truncated", "00000001 00000005 6162", func(d *Decoder) { d.Strings() }, "exceeds"},
		{"huge ACL count", "10000000 00000000 00000000 00000000", func(d *Decoder) { DecodeACLs(d) }, "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(mustHex(t, tc.hex))
			tc.read(d)
			err := d.Err()
			if !errors.Is(err, znode.ErrMarshalling) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrMarshalling mentioning %q", err, tc.want)
			}
			// Sticky: later reads give zero values and keep the first error.
			if d.Int32() != 0 || d.Buffer() != nil || d.Strings() != nil || d.Remaining() != 0 || d.Err() != err {
				t.Error("decoder did not stay failed")
			}
		})
	}
}

func TestDecoderHugeCountDoesNotAllocate(t *testing.T) {
	in := mustHex(t, "7fffffff")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		var d Decoder
		d.Reset(in)
		d.Strings()
		d.Reset(in)
		DecodeACLs(&d)
		d.Reset(in)
		d.Buffer()
	}
	runtime.ReadMemStats(&after)
	// Only the error values are allocated, never storage for the count.
	if perRun := (after.TotalAlloc - before.TotalAlloc) / 100; perRun > 4096 {
		t.Errorf("%d bytes allocated per hostile decode", perRun)
	}
}

func TestEncoderPrimitives(t *testing.T) {
	var e Encoder
	e.Int32(-101)
	e.Int64(1)
	e.Bool(true)
	e.Bool(false)
	e.Buffer(nil)
	e.Buffer([]byte{})
	e.Buffer([]byte("ab"))
	e.String("")
	e.String("/x")
	e.Strings(nil)
	e.Strings([]string{})
	e.Strings([]string{"a"})
	want := mustHex(t, `ffffff9b 0000000000000001 01 00 ffffffff 00000000 00000002 6162
		00000000 00000002 2f78 ffffffff 00000000 00000001 00000001 61`)
	if !bytes.Equal(e.Bytes(), want) || e.Err() != nil {
		t.Fatalf("got %x, want %x (err %v)", e.Bytes(), want, e.Err())
	}
	e.Reset()
	if e.Len() != 0 {
		t.Error("Reset kept bytes")
	}
}

func TestEncoderAppendsAfterExistingBytes(t *testing.T) {
	e := NewEncoder([]byte("hdr"))
	e.Int32(1)
	if got := e.Bytes(); string(got[:3]) != "hdr" || len(got) != 7 {
		t.Errorf("got %q", got)
	}
}
