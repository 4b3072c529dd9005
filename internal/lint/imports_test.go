package lint

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/zkx-dev/zkx"

// allowed lists, for each package (by directory prefix), the zkx packages
// it may import. A package not listed here may import any zkx package.
var allowed = map[string][]string{
	"pkg/znode":            {},
	"pkg/proto":            {"pkg/znode"},
	"pkg/storage":          {"pkg/znode", "pkg/storage"},
	"pkg/tree":             {"pkg/znode", "pkg/storage"},
	"pkg/watch/oneshot":    {"pkg/znode", "pkg/watch/internal"},
	"pkg/watch/persistent": {"pkg/znode", "pkg/watch/internal"},
	"pkg/watch/internal":   {},
	"pkg/changelog":        {"pkg/znode"},
	// The raft glue knows nothing of znodes: it moves opaque entries.
	"pkg/ensemble": {},
}

// owners names the one zkx directory allowed to import each third-party
// library.
var owners = map[string]string{
	"github.com/knadh/koanf":            "internal/config",
	"github.com/armon/go-radix":         "pkg/watch/persistent",
	"github.com/dgraph-io/badger":       "pkg/storage/badger",
	"github.com/hashicorp/go-plugin":    "pkg/notify sdk/notifier",
	"github.com/nats-io/nats.go":        "plugins/nats",
	"github.com/hashicorp/raft":         "pkg/ensemble", // raft and raft-boltdb
	"github.com/anishathalye/porcupine": "test/linear",
}

func TestImportDirections(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		isTest := strings.HasSuffix(path, "_test.go")
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			checkImport(t, rel, p, isTest, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkImport(t *testing.T, dir, imp string, isTest bool, file string) {
	t.Helper()
	if strings.HasPrefix(imp, module+"/") {
		target := strings.TrimPrefix(imp, module+"/")
		if strings.HasPrefix(dir, "pkg/") && (hasPrefixDir(target, "pkg/server") || hasPrefixDir(target, "internal/config")) && !isTest {
			t.Errorf("%s imports %s: nothing under pkg/ may import pkg/server or internal/config", file, target)
		}
		if isTest {
			return // tests may use test helpers from other packages
		}
		for prefix, ok := range allowed {
			if !hasPrefixDir(dir, prefix) {
				continue
			}
			permitted := false
			for _, a := range ok {
				if hasPrefixDir(target, a) {
					permitted = true
				}
			}
			if !permitted {
				t.Errorf("%s imports %s: %s may import only %v", file, target, prefix, ok)
			}
		}
		return
	}
	for lib, owner := range owners {
		if !strings.HasPrefix(imp, lib) {
			continue
		}
		ok := false
		for _, o := range strings.Fields(owner) {
			if hasPrefixDir(dir, o) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s imports %s: only %s may import it", file, imp, owner)
		}
	}
}

func hasPrefixDir(dir, prefix string) bool {
	return dir == prefix || strings.HasPrefix(dir, prefix+"/")
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
