package cluster

import (
	"bytes"
	"context"
	stdlog "log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// lineWriter turns the text lines that raft (through hclog) and memberlist
// (through the standard logger) write into slog records, so that every log
// line of the node carries the same keys.
type lineWriter struct {
	log *slog.Logger
}

func (w lineWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		text := strings.TrimSpace(string(line))
		if text == "" {
			continue
		}
		level := slog.LevelInfo
		switch {
		case strings.Contains(text, "[ERR"):
			level = slog.LevelError
		case strings.Contains(text, "[WARN"):
			level = slog.LevelWarn
		case strings.Contains(text, "[DEBUG"), strings.Contains(text, "[TRACE"):
			level = slog.LevelDebug
		}
		w.log.Log(context.Background(), level, text)
	}
	return len(p), nil
}

func newStdLogger(l *slog.Logger) *stdlog.Logger {
	return stdlog.New(lineWriter{log: l}, "", 0)
}

func newHCLogger(l *slog.Logger, name string) hclog.Logger {
	level := hclog.Info
	if l.Enabled(context.Background(), slog.LevelDebug) {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:            name,
		Level:           level,
		Output:          lineWriter{log: l.With("component", name)},
		DisableTime:     true,
		IncludeLocation: false,
	})
}
