package harness

import (
	"net"
	"testing"
	"time"
)

func TestNetFaultCutsAndHeals(t *testing.T) {
	f := NewNetFault(t)
	ln, err := net.Listen("tcp", "127.0.0.22:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	dial := func() error {
		d := net.Dialer{Timeout: 300 * time.Millisecond, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.21")}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatalf("before the cut: %v", err)
	}
	f.Cut("127.0.0.21", "127.0.0.22")
	if err := dial(); err == nil {
		t.Fatal("dial succeeded across a cut")
	}
	f.Heal()
	if err := dial(); err != nil {
		t.Fatalf("after healing: %v", err)
	}
}
