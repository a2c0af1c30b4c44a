package main

import (
	"io"
	"log/slog"
)

// newLogger builds the process logger; every record carries the node id
// under "node" (docs/DESIGN.md: the same keys everywhere).
func newLogger(w io.Writer, format string, level slog.Level, nodeID string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h).With("node", nodeID)
}
