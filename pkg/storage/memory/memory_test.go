package memory_test

import (
	"testing"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
	"github.com/zkx-dev/zkx/pkg/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, dir string) storage.Backend {
		return memory.New()
	}, storagetest.Options{Durable: false})
}
