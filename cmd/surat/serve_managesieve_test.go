package main

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/managesieve"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// --managesieve is a listener address like the others: parsed, checked
// against the other listeners.
func TestParseServeManageSieve(t *testing.T) {
	data := t.TempDir()
	c, err := parseServe(append(baseArgs(data), "--managesieve", "127.0.0.1:4190"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ManageSieve != "127.0.0.1:4190" {
		t.Fatalf("ManageSieve = %q", c.ManageSieve)
	}
	if c, err := parseServe(baseArgs(data), envOf(nil)); err != nil || c.ManageSieve != "" {
		t.Fatalf("default: %q, %v", c.ManageSieve, err)
	}
	for _, bad := range []string{"127.0.0.1:1430", "nonsense", "127.0.0.1:99999"} {
		if _, err := parseServe(append(baseArgs(data), "--managesieve", bad), envOf(nil)); err == nil {
			t.Errorf("--managesieve %s accepted", bad)
		}
	}
}

// noScripts is a Scripts with nothing in it.
type noScripts struct{}

func (noScripts) List(context.Context, string) ([]managesieve.ScriptInfo, error) { return nil, nil }
func (noScripts) Get(context.Context, string, string) ([]byte, error) {
	return nil, managesieve.ErrNonexistent
}
func (noScripts) Put(context.Context, string, string, []byte, managesieve.Limits) error { return nil }
func (noScripts) Delete(context.Context, string, string) error                          { return nil }
func (noScripts) Rename(context.Context, string, string, string) error                  { return nil }
func (noScripts) Activate(context.Context, string, string) error                        { return nil }

type noUsers struct{}

func (noUsers) User(string) (*evlog.UserRecord, error) { return nil, mailbox.ErrNotFound }

// startManageSieve serves the greeting on the bound listener and stops
// with shutdown; off when the flag is not set.
func TestStartManageSieve(t *testing.T) {
	cfg := &serveConfig{Hostname: "mail.example.test", ManageSieve: "127.0.0.1:0"}
	ln, err := listenManageSieve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig, err := tlsconf.Server(tlsconf.Options{DataDir: t.TempDir(), Hostnames: []string{cfg.Hostname}})
	if err != nil {
		t.Fatal(err)
	}
	lg, err := login.New(login.Config{Directory: noUsers{}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := startManageSieve(cfg, ln, tlsConfig, manageSieveParts{scripts: noScripts{}, extensions: []string{"fileinto"}},
		lg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var greeting []string
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("greeting so far %q: %v", greeting, err)
		}
		greeting = append(greeting, strings.TrimSpace(line))
		if strings.HasPrefix(line, "OK") {
			break
		}
	}
	all := strings.Join(greeting, "\n")
	for _, want := range []string{`"STARTTLS"`, `"SIEVE" "fileinto"`, `"IMPLEMENTATION" "Surat"`} {
		if !strings.Contains(all, want) {
			t.Errorf("greeting lacks %s:\n%s", want, all)
		}
	}
	m.shutdown(time.Second)

	off, err := listenManageSieve(&serveConfig{})
	if err != nil || off != nil {
		t.Fatalf("without the flag: %v, %v", off, err)
	}
	if s, err := startManageSieve(cfg, nil, tlsConfig, manageSieveParts{}, lg, slog.New(slog.DiscardHandler)); s != nil || err != nil {
		t.Fatalf("start without a listener: %v, %v", s, err)
	}
}

// ManageSieve's check is the compiler: a bad script's error names its line; an
// include of a script not uploaded yet is fine at upload.
func TestManageSieveCheck(t *testing.T) {
	parts := newManageSieveParts(nil, noScripts{})
	if err := parts.check([]byte("require [\"fileinto\"];\r\nif header :contains \"Subject\" \"[proj]\" {\r\n    fileinto \"Projects\"\r\n")); err == nil || !strings.Contains(err.Error(), "line") {
		t.Errorf("bad script: %v", err)
	}
	for _, good := range []string{
		"require [\"fileinto\", \"mailbox\"];\r\nfileinto :create \"Cli\";\r\n",
		"require [\"vacation\"];\r\nvacation :days 1 :subject \"Away\" \"I am away.\";\r\n",
		"require [\"include\"];\r\ninclude :personal \"later\";\r\n",
		"",
	} {
		if err := parts.check([]byte(good)); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	if !slices.Contains(parts.extensions, "fileinto") || !slices.Contains(parts.extensions, "vacation") || parts.maxRedirects == 0 {
		t.Errorf("parts: %+v", parts)
	}
}
