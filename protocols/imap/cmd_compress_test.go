package imap

import (
	"bufio"
	"bytes"
	"compress/flate"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// deflateConn is a test client's side of COMPRESS DEFLATE (RFC 4978):
// each write compressed and sync-flushed, reads inflated.
type deflateConn struct {
	net.Conn
	r  io.Reader
	fw *flate.Writer
}

func (c *deflateConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *deflateConn) Write(p []byte) (int, error) {
	if _, err := c.fw.Write(p); err != nil {
		return 0, err
	}
	return len(p), c.fw.Flush()
}

// compressed turns rc, whose COMPRESS was just answered OK, into a
// compressed connection; bytes rc has read ahead are inflated first.
func compressed(rc *rawConn) *rawConn {
	fw, _ := flate.NewWriter(rc.conn, flate.DefaultCompression)
	dc := &deflateConn{Conn: rc.conn, r: flate.NewReader(rc.r), fw: fw}
	return &rawConn{t: rc.t, conn: dc, r: bufio.NewReader(dc)}
}

// TestCmdCompress: COMPRESS DEFLATE (RFC 4978) refused before login, BAD
// for another mechanism, then every kind of exchange compressed: a
// synchronising literal's continuation, a FETCH of many bodies (the
// coalesced writes), IDLE, NO [COMPRESSIONACTIVE], LOGOUT's BYE.
func TestCmdCompress(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "compresscmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, "", `
		C: a COMPRESS DEFLATE
		S: a BAD
		C: b NOOP
		S: b OK`)

	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	caps := " " + rc.cmd("a", "CAPABILITY")[0] + " "
	if !strings.Contains(caps, " COMPRESS=DEFLATE ") {
		t.Errorf("COMPRESS=DEFLATE not in %q", caps)
	}
	playScript(t, rc, `
		C: b COMPRESS
		S: b BAD
		C: c COMPRESS LZ4
		S: c BAD
		C: d COMPRESS deflate
		S: d OK`)
	zc := compressed(rc)
	body := "Subject: z\r\n\r\n" + strings.Repeat("compressible line of text\r\n", 400)
	playScript(t, zc, `
		C: e COMPRESS DEFLATE
		S: e NO [COMPRESSIONACTIVE]
		C: f APPEND INBOX {`+itoa(len(body))+`}
		S: +`)
	zc.conn.Write([]byte(body + "\r\n"))
	playScript(t, zc, `S: f OK [APPENDUID`)
	for range 20 {
		appendRaw(zc, "INBOX", body)
	}
	playScript(t, zc, `
		C: g SELECT INBOX
		S: ...
		S: g OK`)
	zc.conn.Write([]byte("h FETCH 1:* (BODY.PEEK[])\r\n"))
	fetches, lines := 0, 0
	for {
		l := zc.line()
		if l == "" && lines > 10000 {
			t.Fatal("FETCH: no tagged answer")
		}
		lines++
		if strings.HasPrefix(l, "* ") && strings.Contains(l, " FETCH (BODY[] {"+itoa(len(body))+"}") {
			fetches++
		}
		if strings.HasPrefix(l, "h ") {
			if !strings.HasPrefix(l, "h OK") || fetches != 21 || lines != 21*(1+2+400+1)+1 {
				t.Fatalf("FETCH: %q after %d bodies, %d lines", l, fetches, lines)
			}
			break
		}
	}
	playScript(t, zc, `
		C: i IDLE
		S: + idling
		C: DONE
		S: i OK
		C: j LOGOUT
		S: * BYE
		S: j OK`)
}

// TestCompressPipelined: a command the client compressed and sent with
// COMPRESS, before its OK came (already read by the server), is inflated
// and answered; data that does not inflate ends the session with BYE.
func TestCompressPipelined(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "compresspipe", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestCompression)
	fw.Write([]byte("b NOOP\r\n"))
	fw.Flush()
	rc.conn.Write(append([]byte("a COMPRESS DEFLATE\r\n"), z.Bytes()...))
	playScript(t, rc, `S: a OK`)
	zc := &rawConn{t: t, conn: rc.conn, r: bufio.NewReader(flate.NewReader(rc.r))}
	playScript(t, zc, `S: b OK`)
	// A stored block whose length check fails (RFC 1951 §3.2.4).
	rc.conn.Write([]byte{0x00, 0x05, 0x00, 0x05, 0x00})
	playScript(t, zc, `S: * BYE Invalid compressed data`)
}

// TestDeflateWriterBatches: batches and chunks compressed by different
// pooled compressors make one stream a single inflater reads whole, and
// a batch much larger than the buffers reaches the connection in one
// write per chunk, not one per compressed block.
func TestDeflateWriterBatches(t *testing.T) {
	var out countingWriter
	pool := &sync.Pool{}
	w := &deflateWriter{out: &out, pool: pool}
	bw := bufio.NewWriterSize(w, writeBufferSize)
	var want bytes.Buffer
	for i := range 5 {
		batch := bytes.Repeat([]byte("* "+itoa(i)+" FETCH (FLAGS (\\Seen))\r\n"), 1+i*2000)
		want.Write(batch)
		bw.Write(batch)
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if w.plain != nil || w.z.Cap() != 0 {
			t.Fatal("buffers kept after the batch")
		}
		// All of the batch inflates from what was sent so far.
		got := make([]byte, want.Len())
		if _, err := io.ReadFull(flate.NewReader(bytes.NewReader(out.buf.Bytes())), got); err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("batch %d: inflated %d of %d bytes: %v", i, len(got), want.Len(), err)
		}
	}
	// One write per chunk of 32 KiB of responses, and one per batch for
	// the rest.
	if limit := want.Len()/deflateChunk + 5; out.writes > limit {
		t.Errorf("%d writes for %d bytes of responses (at most %d)", out.writes, want.Len(), limit)
	}
}

type countingWriter struct {
	buf    bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.buf.Write(p)
}

// TestCompressPython: COMPRESS from Python (testdata/imaplib_compress.py):
// imaplib has no COMPRESS, so the script sends it and then puts zlib under
// imaplib's own reads and writes; every later command is imaplib's.
func TestCompressPython(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "imaplibcompress", password)
	wantImaplibOK(t, c, "imaplib_compress.py", user, password)
}
