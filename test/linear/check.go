package linear

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// Results of Check, so that callers need not import porcupine.
const (
	// Linearizable: the checker found a linearization of every key's history.
	Linearizable = porcupine.Ok
	// NotLinearizable: some key's history has none.
	NotLinearizable = porcupine.Illegal
	// Inconclusive: the checker ran out of time.
	Inconclusive = porcupine.Unknown
)

// Check reports whether history is linearizable under Model, giving up after timeout (0: no
// limit). The LinearizationInfo is what porcupine.Visualize draws.
func Check(history []porcupine.Operation, timeout time.Duration) (porcupine.CheckResult, porcupine.LinearizationInfo) {
	return porcupine.CheckOperationsVerbose(Model(), history, timeout)
}

// Visualize writes porcupine's HTML visualization of a checked history to path: one row per
// client, the longest linearizations found, and the operation that none of them could take.
func Visualize(info porcupine.LinearizationInfo, path string) error {
	return porcupine.VisualizePath(Model(), info, path)
}

// CheckHistory checks history like Check and logs the verdict. When the history is not
// linearizable, or the check is inconclusive, it writes the visualization to NAME.html and
// the history to NAME.jsonl (WriteHistory) in a directory of its own under the system's
// temporary directory and logs their paths; the directory is removed at the end of the test
// unless the test failed (t.TempDir would always be removed, and a failure is when the files
// are wanted). The caller decides whether the result fails the test.
func CheckHistory(t testing.TB, name string, history []porcupine.Operation, timeout time.Duration) porcupine.CheckResult {
	t.Helper()
	start := time.Now()
	res, info := Check(history, timeout)
	t.Logf("linear: %s: %d operations checked in %v: %s", name, len(history), time.Since(start).Round(time.Millisecond), res)
	if res == Linearizable {
		return res
	}
	dir, err := os.MkdirTemp("", "zkx-linear-")
	if err != nil {
		t.Errorf("linear: no directory for the visualization: %v", err)
		return res
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	base := filepath.Join(dir, fileName(name))
	if err := Visualize(info, base+".html"); err != nil {
		t.Errorf("linear: write visualization: %v", err)
		return res
	}
	if err := writeHistoryFile(base+".jsonl", history); err != nil {
		t.Errorf("linear: write history: %v", err)
		return res
	}
	t.Logf("linear: %s: visualization and history (ReadHistory) kept if the test fails: %s.html, %s.jsonl", name, base, base)
	return res
}

func writeHistoryFile(path string, history []porcupine.Operation) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = WriteHistory(f, history)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// fileName makes a test or history name usable as a file name.
func fileName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
}
