package proc

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDirBytes(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []struct {
		path string
		size int
	}{{"a", 100}, {"sub/b", 28}, {"sub/deeper/c", 1000}} {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, f.size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		dir  string
		want int64
	}{{dir, 1128}, {filepath.Join(dir, "sub"), 1028}, {filepath.Join(dir, "missing"), 0}} {
		got, err := DirBytes(tt.dir)
		if err != nil || got != tt.want {
			t.Errorf("DirBytes(%s) = %d, %v; want %d", tt.dir, got, err, tt.want)
		}
	}
}

func TestRSSBytes(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	rss, err := RSSBytes(os.Getpid())
	if err != nil || rss <= 0 {
		t.Fatalf("RSS of this process: %d, %v", rss, err)
	}
	if _, err := RSSBytes(1 << 30); err == nil {
		t.Error("RSS of a process that does not exist: no error")
	}
}
