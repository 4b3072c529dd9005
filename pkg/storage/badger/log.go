package badger

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// levelTrace is below slog.LevelDebug: badger's debug messages describe
// every write and are of use only when debugging badger itself.
const levelTrace = slog.LevelDebug - 4

// badgerLogger routes badger's logger into slog. Badger's errors and
// warnings keep their level; its info messages (table and compaction
// bookkeeping) are debug detail for a zkx operator.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.log(slog.LevelError, f, a) }
func (b badgerLogger) Warningf(f string, a ...any) { b.log(slog.LevelWarn, f, a) }
func (b badgerLogger) Infof(f string, a ...any)    { b.log(slog.LevelDebug, f, a) }
func (b badgerLogger) Debugf(f string, a ...any)   { b.log(levelTrace, f, a) }

func (b badgerLogger) log(level slog.Level, f string, a []any) {
	ctx := context.Background()
	if !b.l.Enabled(ctx, level) {
		return
	}
	b.l.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}
