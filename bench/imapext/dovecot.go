package imapext

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"
)

// Dovecot is Debian's Dovecot run from the project's peer config
// (bench/peers/dovecot.conf.in, as bench/imap-pop3.sh runs it), IMAP only:
// the config's LMTP and POP3 services are not started (protocols = imap),
// the rest is unchanged. Its implicit-TLS listener is IMAPS.
type Dovecot struct {
	dir, conf string
}

// Dovecot's listeners in bench/peers/dovecot.conf.in.
const (
	DovecotIMAPS = "127.0.0.1:11993"
	dovecotIMAP  = "127.0.0.1:11143"
)

// DovecotMaildir is user's Maildir under the state directory.
func (d *Dovecot) Maildir(user string) string {
	local, domain, _ := strings.Cut(user, "@")
	return filepath.Join(d.dir, "mail", domain, local, "Maildir")
}

// StartDovecot installs dovecot-imapd when missing (apt-get; root), makes
// the vmail user the config names, renders the config into dir (which
// must exist) with a fresh self-signed certificate and starts Dovecot.
// Users are bench/peers/users.passwd's (u1..u100@example.test, "pass").
func StartDovecot(ctx context.Context, peers, dir string) (*Dovecot, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("dovecot: needs root (it installs and runs Dovecot as the peer recipe does)")
	}
	if _, err := os.Stat("/usr/lib/dovecot/imap"); err != nil {
		if err := run(ctx, nil, "apt-get", "update", "-qq"); err != nil {
			return nil, err
		}
		if err := run(ctx, []string{"DEBIAN_FRONTEND=noninteractive"}, "apt-get", "install", "-y", "-q",
			"-o", "DPkg::Lock::Timeout=600", "dovecot-imapd", "openssl"); err != nil {
			return nil, err
		}
	}
	if _, err := user.Lookup("vmail"); err != nil {
		if err := run(ctx, nil, "useradd", "-r", "-u", "5000", "-U", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", "vmail"); err != nil {
			return nil, err
		}
	}
	for _, a := range []string{DovecotIMAPS, dovecotIMAP} {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("dovecot: %s is in use: stop what listens there first", a)
		}
	}
	d := &Dovecot{dir: dir, conf: filepath.Join(dir, "dovecot.conf")}
	for _, sub := range []string{"run", "ssl", "mail", "pfq/private"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil { // traversed by vmail, dovecot and dovenull
		return nil, err
	}
	if err := run(ctx, nil, "chown", "vmail:vmail", filepath.Join(dir, "mail")); err != nil {
		return nil, err
	}
	if err := run(ctx, nil, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365",
		"-subj", "/CN=mail.example.test", "-keyout", filepath.Join(dir, "ssl/key.pem"), "-out", filepath.Join(dir, "ssl/cert.pem")); err != nil {
		return nil, err
	}
	if err := run(ctx, nil, "install", "-o", "root", "-g", "dovecot", "-m", "640",
		filepath.Join(peers, "users.passwd"), filepath.Join(dir, "users.passwd")); err != nil {
		return nil, err
	}
	tmpl, err := os.ReadFile(filepath.Join(peers, "dovecot.conf.in"))
	if err != nil {
		return nil, err
	}
	conf := strings.NewReplacer("@PEER_STATE@", dir, "@POSTFIX_QUEUE@", filepath.Join(dir, "pfq"),
		"protocols = imap pop3 lmtp", "protocols = imap").Replace(string(tmpl))
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	// Dovecot forks its master, which keeps the output it inherits open:
	// its start-up messages go to a file, not to a pipe someone waits on.
	out, err := os.Create(filepath.Join(dir, "start.log"))
	if err != nil {
		return nil, err
	}
	start := exec.CommandContext(ctx, "dovecot", "-c", d.conf)
	start.Stdout, start.Stderr = out, out
	err = start.Run()
	out.Close()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "start.log"))
		return nil, fmt.Errorf("dovecot -c %s: %w\n%s", d.conf, err, log)
	}
	for range 100 {
		if c, err := net.DialTimeout("tcp", DovecotIMAPS, time.Second); err == nil {
			c.Close()
			return d, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.Stop()
	return nil, fmt.Errorf("dovecot: %s did not come up (see %s/dovecot.log)", DovecotIMAPS, dir)
}

// Stop stops Dovecot and waits (bounded) for its master to go.
func (d *Dovecot) Stop() {
	pid, _ := os.ReadFile(filepath.Join(d.dir, "run/master.pid"))
	_ = exec.Command("dovecot", "-c", d.conf, "stop").Run()
	p := strings.TrimSpace(string(pid))
	for range 100 {
		if p == "" {
			return
		}
		if _, err := os.Stat("/proc/" + p); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Version is `dovecot --version`'s first word.
func DovecotVersion() string {
	out, err := exec.Command("dovecot", "--version").Output()
	if err != nil {
		return "?"
	}
	return firstWord(strings.TrimSpace(string(out)))
}

func run(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
