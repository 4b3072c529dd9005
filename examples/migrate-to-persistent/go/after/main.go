// Command after mirrors the /config subtree with ONE persistent recursive
// watch (ZooKeeper 3.6+ addWatch): it stays armed, so there is nothing to
// re-register and no gap between an event and the next watch, and the
// server holds one watch instead of two per node. A recursive watch
// reports each node's own NodeCreated, NodeDataChanged and NodeDeleted,
// never NodeChildrenChanged. After a disconnect, zkx replays the events
// the watch missed; against Apache ZooKeeper an application re-reads.
//
// Usage: after 127.0.0.1:2181
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

func main() {
	ctx := context.Background()
	c, err := client.Connect(ctx, os.Args[1], client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Create(ctx, "/config", nil, client.CreateOptions{})

	// Arm the watch first, then load: a change during the load is then
	// both in the load and in the events, never in neither.
	w, err := c.AddWatch(ctx, "/config", client.AddWatchPersistentRecursive)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Stop(ctx)
	data := map[string]string{}
	var load func(p string)
	load = func(p string) {
		d, _, err := c.Get(ctx, p)
		if err != nil {
			return
		}
		data[p] = string(d)
		kids, _, _ := c.Children(ctx, p)
		for _, k := range kids {
			load(path.Join(p, k))
		}
	}
	load("/config")
	fmt.Println("ready")

	for ev := range w.Events() {
		switch ev.Type {
		case client.EventNodeCreated, client.EventNodeDataChanged:
			d, _, err := c.Get(ctx, ev.Path)
			if errors.Is(err, client.ErrNoNode) {
				continue // deleted since; its NodeDeleted follows
			} else if err != nil {
				log.Fatal(err)
			}
			if ev.Path == "/config/done" {
				return
			}
			kind := "NODE_UPDATED"
			if _, ok := data[ev.Path]; !ok {
				kind = "NODE_ADDED"
			}
			data[ev.Path] = string(d)
			fmt.Printf("%s %s=%s\n", kind, ev.Path, d)
		case client.EventNodeDeleted:
			fmt.Printf("NODE_REMOVED %s=%s\n", ev.Path, data[ev.Path])
			delete(data, ev.Path)
		}
	}
}
