package recipe_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/zkx-dev/zkx/client"
	"github.com/zkx-dev/zkx/client/recipe"
	"github.com/zkx-dev/zkx/pkg/server"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
)

func ExampleTreeCache() {
	srv, err := server.New(server.Options{Listen: "127.0.0.1:0", Backend: memory.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := client.Connect(ctx, srv.Addr().String(), client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Create(ctx, "/services", nil, client.CreateOptions{})
	c.Create(ctx, "/services/api", []byte("10.0.0.1:80"), client.CreateOptions{})

	cache := recipe.NewTreeCache(c, "/services")
	if err := cache.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer cache.Close(ctx)

	c.Create(ctx, "/services/web", []byte("10.0.0.2:80"), client.CreateOptions{})
	for ch := range cache.Changes() {
		fmt.Printf("%v %s %q\n", ch.Type, ch.Path, ch.Data)
		if ch.Path == "/services/web" {
			break
		}
	}
	kids, _ := cache.Children("/services")
	data, _, _ := cache.Get("/services/web")
	fmt.Println(kids, string(data))
	// Output:
	// NodeAdded /services ""
	// NodeAdded /services/api "10.0.0.1:80"
	// NodeAdded /services/web "10.0.0.2:80"
	// [api web] 10.0.0.2:80
}
