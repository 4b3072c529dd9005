package client_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/zkx-dev/zkx/client"
	"github.com/zkx-dev/zkx/pkg/server"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
)

// exampleServer starts an in-process zkx server for the examples.
func exampleServer() (addr string, stop func()) {
	srv, err := server.New(server.Options{Listen: "127.0.0.1:0", Backend: memory.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	return srv.Addr().String(), func() { srv.Shutdown(context.Background()) }
}

func ExampleClient_AddWatch() {
	addr, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := client.Connect(ctx, addr, client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// Watch /config and everything below it, until Stop.
	w, err := c.AddWatch(ctx, "/config", client.AddWatchPersistentRecursive)
	if err != nil {
		log.Fatal(err)
	}
	c.Create(ctx, "/config", nil, client.CreateOptions{})
	c.Create(ctx, "/config/db", []byte("primary"), client.CreateOptions{})
	c.Set(ctx, "/config/db", []byte("replica"), -1)
	c.Delete(ctx, "/config/db", -1)
	w.Stop(ctx)

	for ev := range w.Events() { // closed after PersistentWatchRemoved
		fmt.Println(ev.Type, ev.Path)
	}
	// Output:
	// NodeCreated /config
	// NodeCreated /config/db
	// NodeDataChanged /config/db
	// NodeDeleted /config/db
	// PersistentWatchRemoved /config
}
