package clamd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// eicar is the EICAR anti-virus test string (eicar.org): harmless, and
// detected by every scanner given its signature.
const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// fakeClamd speaks the z-commands of clamd(8) on a unix socket, with the
// faults the tests need.
type fakeClamd struct {
	ln   net.Listener
	path string

	mu       sync.Mutex
	maxBytes int  // StreamMaxLength; 0: none
	hang     bool // read the command, then nothing (a stalled clamd)
	hangUp   bool // close the connection after the command (a dying clamd)
	scans    int
	wg       sync.WaitGroup
}

func startFake(t testing.TB) *fakeClamd {
	t.Helper()
	dir, err := os.MkdirTemp("", "clamd") // short: a socket path has ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "clamd.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeClamd{ln: ln, path: path}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(f.stop)
	return f
}

func (f *fakeClamd) client() *Client { return &Client{Network: "unix", Address: f.path} }

func (f *fakeClamd) stop() {
	f.ln.Close()
	f.wg.Wait()
}

func (f *fakeClamd) set(fn func(f *fakeClamd)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeClamd) serve() {
	defer f.wg.Done()
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer c.Close()
			f.handle(c)
		}()
	}
}

func (f *fakeClamd) handle(c net.Conn) {
	r := bufio.NewReader(c)
	cmd, err := r.ReadString(0)
	if err != nil {
		return
	}
	f.mu.Lock()
	hang, hangUp, limit := f.hang, f.hangUp, f.maxBytes
	f.mu.Unlock()
	if hangUp {
		return
	}
	if hang {
		io.Copy(io.Discard, c) // until the client gives up
		return
	}
	switch cmd {
	case "zPING\x00":
		c.Write([]byte("PONG\x00"))
	case "zVERSION\x00":
		c.Write([]byte("ClamAV 1.4.3/0/fake\x00"))
	case "zINSTREAM\x00":
		var data []byte
		for {
			var size [4]byte
			if _, err := io.ReadFull(r, size[:]); err != nil {
				return
			}
			n := binary.BigEndian.Uint32(size[:])
			if n == 0 {
				break
			}
			if limit > 0 && len(data)+int(n) > limit {
				c.Write([]byte("INSTREAM size limit exceeded. ERROR\x00"))
				return
			}
			chunk := make([]byte, n)
			if _, err := io.ReadFull(r, chunk); err != nil {
				return
			}
			data = append(data, chunk...)
		}
		f.mu.Lock()
		f.scans++
		f.mu.Unlock()
		if bytes.Contains(data, []byte(eicar)) {
			c.Write([]byte("stream: Eicar-Test-Signature FOUND\x00"))
		} else {
			c.Write([]byte("stream: OK\x00"))
		}
	default:
		c.Write([]byte("UNKNOWN COMMAND\x00"))
	}
}

func (f *fakeClamd) scanCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.scans
}
