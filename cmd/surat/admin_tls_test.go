package main

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/admin"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// A node whose --http is not on loopback serves the admin API over TLS
// with the mail certificate; the CLI reaches it with https and a CA file
// (the node's self-signed certificate) or --insecure, and is told what to
// do when it tries plain http.
func TestAdminTLSOffLoopback(t *testing.T) {
	data := t.TempDir()
	tlsCfg, err := tlsconf.Server(tlsconf.Options{DataDir: data, Hostnames: []string{"mx.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNode{users: map[string]uint64{}}
	api, err := admin.New(admin.Config{Directory: f, Digester: f, Cluster: f, Token: "tok",
		IsNotFound:   func(err error) bool { return errors.Is(err, errNoUser) },
		HashPassword: func(pw string) (string, error) { return "h:" + pw, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The refused handshakes below are expected; keep them out of the test log.
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	served := make(chan error, 1)
	// The address decides, as --http 0.0.0.0:PORT would.
	go func() { served <- serveAdmin(srv, ln, "0.0.0.0:8080", tlsCfg) }()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		<-served
	})
	port := ln.Addr().(*net.TCPAddr).Port
	https := "https://127.0.0.1:" + strconv.Itoa(port)
	env := map[string]string{"SURAT_ADMIN_TOKEN": "tok"}
	ca := filepath.Join(data, tlsconf.Dir, tlsconf.CertName)

	if r := runCLI(t, env, "pw-for-bob\n", "user", "add", "bob@example.test", "--password-stdin", "--server", https, "--ca-file", ca); r.code != 0 {
		t.Fatalf("https with the node's certificate as CA: %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, map[string]string{"SURAT_ADMIN_TOKEN": "tok", "SURAT_ADMIN_CA": ca}, "", "user", "list", "--server", https); r.code != 0 || r.stdout != "bob@example.test\n" {
		t.Fatalf("https with SURAT_ADMIN_CA: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, env, "", "user", "list", "--server", https, "--insecure"); r.code != 0 {
		t.Fatalf("https --insecure: %d %s", r.code, r.stderr)
	}
	if msg := oneLineErr(t, runCLI(t, env, "", "user", "list", "--server", https)); !strings.Contains(msg, "certificate") {
		t.Errorf("unverified self-signed certificate: %q", msg)
	}
	if msg := oneLineErr(t, runCLI(t, env, "", "user", "list", "--server", "http://127.0.0.1:"+strconv.Itoa(port))); !strings.Contains(msg, "use --server https://") {
		t.Errorf("plain http to the TLS port: %q", msg)
	}
	other := filepath.Join(t.TempDir(), "notpem")
	os.WriteFile(other, []byte("not a certificate"), 0o644)
	if msg := oneLineErr(t, runCLI(t, env, "", "user", "list", "--server", https, "--ca-file", other)); !strings.Contains(msg, "no PEM certificate") {
		t.Errorf("bad CA file: %q", msg)
	}
}

// On loopback the API stays plain http (CONTRACT.md's --server http://).
func TestAdminPlainOnLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- serveAdmin(srv, ln, ln.Addr().String(), nil) }()
	defer func() {
		srv.Shutdown(context.Background())
		<-served
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestAdminIPs(t *testing.T) {
	for addr, want := range map[string]string{"10.0.0.1:8080": "10.0.0.1", "0.0.0.0:8080": "", "127.0.0.1:8080": "", "admin.test:8080": "", "[2001:db8::1]:8080": "2001:db8::1"} {
		got := ""
		if ips := adminIPs(&serveConfig{HTTP: addr}); len(ips) == 1 {
			got = ips[0].String()
		}
		if got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}

func TestAdminHosts(t *testing.T) {
	c := &serveConfig{Hostname: "mx1.example.org", HTTP: "admin.example.org:8080", HTTPNames: []string{"ops.example.org"}}
	got := strings.Join(adminHosts(c), ",")
	if got != "mx1.example.org,ops.example.org,admin.example.org" {
		t.Errorf("hosts %s", got)
	}
	c.HTTP = "10.0.0.1:8080"
	if got := strings.Join(adminHosts(c), ","); got != "mx1.example.org,ops.example.org" {
		t.Errorf("hosts %s", got)
	}
}
