package log

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDesignDocumentsEveryEvent keeps the event table of docs/DESIGN.md
// true to events.proto: every case of Event's oneof must have a row with
// its field number and message name, and every error code must be named.
func TestDesignDocumentsEveryEvent(t *testing.T) {
	path := filepath.Join("..", "docs", "DESIGN.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the design: %v", err)
	}
	doc := string(raw)
	i := strings.Index(doc, "## The event vocabulary")
	if i < 0 {
		t.Fatalf("%s has no \"## The event vocabulary\" section", path)
	}
	vocabulary := doc[i:]

	kinds := (&Event{}).ProtoReflect().Descriptor().Oneofs().ByName("kind").Fields()
	if kinds.Len() == 0 {
		t.Fatal("Event has no kinds")
	}
	for k := 0; k < kinds.Len(); k++ {
		f := kinds.Get(k)
		name := string(f.Message().Name())
		if !strings.Contains(vocabulary, "`"+name) {
			t.Errorf("event %s (Event field %d) is not in %s's event table", name, f.Number(), path)
		}
		if !documentsNumber(vocabulary, int(f.Number())) {
			t.Errorf("Event field number %d (%s) is not in %s's event table", f.Number(), name, path)
		}
	}
	codes := ErrorCode(0).Descriptor().Values()
	for k := 0; k < codes.Len(); k++ {
		name := strings.TrimPrefix(string(codes.Get(k).Name()), "ERROR_CODE_")
		if name == "UNSPECIFIED" {
			continue
		}
		if !strings.Contains(vocabulary, "`"+name+"`") {
			t.Errorf("error code %s is not in %s's list of error codes", name, path)
		}
	}
}

// documentsNumber reports whether a table row starts with the field number
// n, alone ("| 41 |") or in a list ("| 44, 45 |").
func documentsNumber(doc string, n int) bool {
	for _, form := range []string{"\n| %d |", "\n| %d, ", ", %d |", ", %d, "} {
		if strings.Contains(doc, fmt.Sprintf(form, n)) {
			return true
		}
	}
	return false
}
