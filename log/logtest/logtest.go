// Package logtest collects a node's log lines in tests, as JSON, so that a
// test can check the keys a line carries (docs/DESIGN.md, "Log keys"). It
// is for tests only and holds nothing between them.
package logtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// Sink is a log/slog JSON destination safe to read while servers write.
type Sink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Logger logs every level to s as JSON.
func (s *Sink) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (s *Sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// String is everything logged so far.
func (s *Sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// Lines returns the fields of the lines whose message is msg, in order.
// JSON numbers decode as float64, groups as map[string]any.
func (s *Sink) Lines(msg string) ([]map[string]any, error) {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if line == "" {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			return nil, fmt.Errorf("logtest: line %q: %w", line, err)
		}
		if fields[slog.MessageKey] == msg {
			out = append(out, fields)
		}
	}
	return out, nil
}
