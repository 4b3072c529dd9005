package ensemble

import (
	"bytes"
	"context"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger returns an hclog.Logger (what hashicorp/raft logs to) whose
// lines go to the server's slog logger at their own level.
func newHCLogger(log *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:        "raft",
		Level:       hclog.Info,
		Output:      &slogWriter{log: log},
		DisableTime: true,
	})
}

// slogWriter turns hclog's text lines ("[WARN]  raft: message: k=v") into
// slog records.
type slogWriter struct{ log *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" {
			continue
		}
		level := slog.LevelInfo
		if strings.HasPrefix(s, "[") {
			if end := strings.IndexByte(s, ']'); end > 0 {
				switch s[1:end] {
				case "TRACE", "DEBUG":
					level = slog.LevelDebug
				case "WARN":
					level = slog.LevelWarn
				case "ERROR":
					level = slog.LevelError
				}
				s = strings.TrimSpace(s[end+1:])
			}
		}
		w.log.Log(context.Background(), level, s)
	}
	return len(p), nil
}
