package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/zkx-dev/zkx/sdk/notifier"
	"github.com/zkx-dev/zkx/sdk/notifier/notifiertest"
)

func TestPrinter(t *testing.T) {
	var out bytes.Buffer
	c := notifiertest.Start(t, &printer{out: &out})
	ctx := context.Background()

	batch := notifiertest.Events(notifier.EventCreated, 5, "/app/a", "/app/b")
	if err := c.Notify(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// zkx may send a batch again after a crash: it is printed once.
	if err := c.Notify(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := c.Notify(ctx, []notifier.Event{{Type: notifier.EventGap, Zxid: 9, GapStart: 7, GapEnd: 9}}); err != nil {
		t.Fatal(err)
	}

	want := "zkx event: created /app/a zxid=5 version=0\n" +
		"zkx event: created /app/b zxid=6 version=0\n" +
		"zkx event: gap zxid 7..9\n"
	if out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
	}
}
