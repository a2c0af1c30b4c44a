package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// operatingDoc is the operator contract, which must name everything an
// operator can type or set.
var operatingDoc = filepath.Join("..", "..", "docs", "OPERATING.md")

// TestOperatingDocumentsEveryServeFlag keeps docs/OPERATING.md true to the
// command line: every serve flag, every command of the CLI, every
// environment variable the usage names and every exit status must appear
// there. A new flag or command fails this test until it is documented.
func TestOperatingDocumentsEveryServeFlag(t *testing.T) {
	raw, err := os.ReadFile(operatingDoc)
	if err != nil {
		t.Fatalf("read the operator contract: %v", err)
	}
	doc := string(raw)

	for _, f := range serveFlagDocs {
		if !strings.Contains(doc, "`--"+f.name) {
			t.Errorf("serve flag --%s is not in %s: add a row for it to the serve flag tables", f.name, operatingDoc)
		}
	}

	commands := usageCommands(mainUsage)
	if len(commands) < 10 {
		t.Fatalf("found only %d commands in the main usage: %q", len(commands), commands)
	}
	for _, c := range commands {
		if !strings.Contains(doc, c) {
			t.Errorf("command %q is not in %s: add it to the Admin CLI section", c, operatingDoc)
		}
	}

	for _, v := range regexp.MustCompile(`SURAT_[A-Z_]+`).FindAllString(serveSynopsis+mainUsage, -1) {
		if !strings.Contains(doc, "`"+v+"`") {
			t.Errorf("environment variable %s is not in %s: add it to the Environment table", v, operatingDoc)
		}
	}

	for _, code := range []int{exitOK, exitError, exitUsage, exitStorageFull, exitStorageFailure} {
		if !strings.Contains(doc, "\n| "+strconv.Itoa(code)+" |") {
			t.Errorf("exit status %d is not in %s: add a row for it to the Exit statuses table", code, operatingDoc)
		}
	}
}

// usageCommands returns the command words of each "  surat ...   what"
// line of a usage text ("surat user add" of "surat user add EMAIL [...]"):
// the words up to the first argument placeholder or option, before the
// description that follows a run of spaces.
func usageCommands(usage string) []string {
	var out []string
	for _, line := range strings.Split(usage, "\n") {
		if !strings.HasPrefix(line, "  surat ") {
			continue
		}
		synopsis, _, _ := strings.Cut(strings.TrimSpace(line), "  ")
		fields := strings.Fields(synopsis)
		words := []string{"surat"}
		for _, w := range fields[1:] {
			if w != strings.ToLower(w) || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "-") {
				break
			}
			words = append(words, w)
		}
		out = append(out, strings.Join(words, " "))
	}
	return out
}
