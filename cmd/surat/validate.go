package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// checkHostPort validates HOST:PORT. An advertised address (one peers dial)
// needs a concrete host; a listener may leave it empty to bind all.
func checkHostPort(s string, advertised bool) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("want HOST:PORT")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	if advertised {
		if host == "" {
			return errors.New("needs a host other nodes can reach")
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			return errors.New("needs a host other nodes can reach, not the unspecified address")
		}
	}
	return nil
}

// isLoopback reports whether a HOST:PORT names this machine only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkDistinctListeners refuses two listeners on one address.
func checkDistinctListeners(c *serveConfig) error {
	seen := map[string]string{}
	for _, l := range []struct{ name, addr string }{
		{"raft", c.Raft}, {"gossip", c.Gossip}, {"http", c.HTTP}, {"smtp", c.SMTP},
		{"submission", c.Submission}, {"imap", c.IMAP}, {"pop3", c.POP3},
		{"imaps", c.IMAPS}, {"pop3s", c.POP3S}, {"submissions", c.Submissions},
		{"managesieve", c.ManageSieve},
	} {
		if l.addr == "" {
			continue
		}
		if other, ok := seen[l.addr]; ok {
			return fmt.Errorf("--%s and --%s both use %s", other, l.name, l.addr)
		}
		seen[l.addr] = l.name
	}
	return nil
}

// checkDataDir verifies, without writing, that dir is or can become a
// writable directory: an existing dir must be writable; otherwise its
// nearest existing ancestor must be a writable directory.
func checkDataDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	st, err := os.Stat(abs)
	switch {
	case err == nil:
		if !st.IsDir() {
			return errors.New("exists and is not a directory")
		}
		if err := unix.Access(abs, unix.W_OK|unix.X_OK); err != nil {
			return fmt.Errorf("directory is not writable: %v", err)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot use it: %v", unwrapPathError(err))
	}
	for parent := filepath.Dir(abs); ; parent = filepath.Dir(parent) {
		st, err := os.Stat(parent)
		if errors.Is(err, fs.ErrNotExist) {
			if parent == filepath.Dir(parent) {
				return errors.New("no existing parent directory")
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("cannot use parent %s: %v", parent, unwrapPathError(err))
		}
		if !st.IsDir() {
			return fmt.Errorf("cannot be created: %s is not a directory", parent)
		}
		if err := unix.Access(parent, unix.W_OK|unix.X_OK); err != nil {
			return fmt.Errorf("cannot be created: %s is not writable", parent)
		}
		return nil
	}
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
