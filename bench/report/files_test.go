package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRecordsPartialUntilCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results", "x.jsonl")
	r, err := CreateRecords[map[string]int](path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Emit(map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s exists before Commit: %v", path, err)
	}
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after Commit: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "{\"a\":1}\n" || len(r.All()) != 1 {
		t.Errorf("%s: %q, %v; kept %v", path, b, err, r.All())
	}
	if _, err := os.Stat(path + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the .partial file is left after Commit: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.md")
	for _, s := range []string{"one", "two"} {
		if err := WriteFile(path, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != s {
			t.Errorf("%s: %q, want %q", path, b, s)
		}
	}
}

func TestMachineLine(t *testing.T) {
	m := Machine{Cores: 2, MemBytes: 4 << 30, Commit: "abc", Now: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
	want := "Machine: 2 cores (–), 4 GiB RAM, Debian –, Linux –; Surat built from abc; load average – at 2026-01-02 03:04 UTC."
	if got := m.Line(); got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
}
