// Command before mirrors the /config subtree with ONE-SHOT watches, the
// pattern most ZooKeeper applications use today: read every node with a
// data watch and a child watch, and when a watch fires, read the node
// again to re-arm it. Every change costs an event, a read and a new
// registration; a change made between the event and the re-read is seen
// only as the state after it; and the server holds two watches per node.
//
// Usage: before 127.0.0.1:2181
// It prints each change and exits once /config/done exists.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path"

	"github.com/zkx-dev/zkx/client"
)

type mirror struct {
	c      *client.Client
	data   map[string]string // path -> data, the local copy
	events chan client.Event // every watch funnels here
}

// watchNode reads a node's data and children, arming a one-shot watch on
// each, and recurses into children it has not seen. It reports what it
// found, like the "after" program does.
func (m *mirror) watchNode(ctx context.Context, p string) error {
	data, _, dataW, err := m.c.GetW(ctx, p)
	if errors.Is(err, client.ErrNoNode) {
		return nil
	} else if err != nil {
		return err
	}
	old, known := m.data[p]
	m.data[p] = string(data)
	switch {
	case !known && p == "/config/done":
		os.Exit(0)
	case !known:
		fmt.Printf("NODE_ADDED %s=%s\n", p, data)
	case old != string(data):
		fmt.Printf("NODE_UPDATED %s=%s\n", p, data)
	}
	go forward(dataW, m.events)
	kids, _, kidsW, err := m.c.ChildrenW(ctx, p)
	if errors.Is(err, client.ErrNoNode) {
		return nil
	} else if err != nil {
		return err
	}
	go forward(kidsW, m.events)
	for _, k := range kids {
		if _, ok := m.data[path.Join(p, k)]; !ok {
			if err := m.watchNode(ctx, path.Join(p, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func forward(from <-chan client.Event, to chan<- client.Event) {
	if ev, ok := <-from; ok {
		to <- ev
	}
}

func main() {
	ctx := context.Background()
	c, err := client.Connect(ctx, os.Args[1], client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Create(ctx, "/config", nil, client.CreateOptions{})

	m := &mirror{c: c, data: map[string]string{}, events: make(chan client.Event, 64)}
	if err := m.watchNode(ctx, "/config"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready")
	for ev := range m.events {
		switch ev.Type {
		case client.EventNodeDeleted:
			if old, ok := m.data[ev.Path]; ok {
				delete(m.data, ev.Path)
				fmt.Printf("NODE_REMOVED %s=%s\n", ev.Path, old)
			}
		case client.EventNodeDataChanged, client.EventNodeChildrenChanged:
			// Re-read to see the new state and re-arm the watch.
			if err := m.watchNode(ctx, ev.Path); err != nil {
				log.Fatal(err)
			}
		}
	}
}
