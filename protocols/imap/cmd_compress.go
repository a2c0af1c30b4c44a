package imap

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"sync"

	"github.com/emersion/go-imap/v2"
)

// respCodeCompressionActive is RFC 4978 §4's response code: COMPRESS
// again once compression is on.
const respCodeCompressionActive imap.ResponseCode = "COMPRESSIONACTIVE"

// cmdCompress: COMPRESS DEFLATE (RFC 4978 §3). After the tagged OK both
// directions are raw DEFLATE (RFC 1951): the client's commands are
// inflated before the decoder reads them, and each batch of responses is
// deflated and ends with a sync flush, so the client can inflate all of it
// at once. Allowed once logged in only (the table), as Dovecot does; a
// second COMPRESS is NO [COMPRESSIONACTIVE] and another mechanism BAD.
func cmdCompress(s *session, c *command) error {
	d := c.dec
	if err := d.SP(); err != nil {
		return err
	}
	mech, err := d.Keyword()
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	if mech != "DEFLATE" {
		return bad("Unknown compression mechanism")
	}
	if s.deflate != nil {
		return no(respCodeCompressionActive, "DEFLATE is already active")
	}
	c.text = "DEFLATE active"
	c.after = s.startCompress
	return nil
}

// startCompress puts DEFLATE under the session's reader and writer once
// COMPRESS's OK is sent (RFC 4978 §3: the server compresses from the
// octet after that OK's CRLF, the client from its next command). The
// wire decoder and encoder keep their bufio.Reader and bufio.Writer;
// only what is under them changes. Bytes the client sent after the
// command, already read, are compressed data: they are inflated first.
func (s *session) startCompress() error {
	var src io.Reader = s.conn
	if n := s.br.Buffered(); n > 0 {
		ahead, _ := s.br.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), s.conn)
	}
	// The inflater returns what the bytes received allow before it waits
	// for more, whatever flush the client used (inflate.go).
	s.br.Reset(&inflater{s: s, r: newInflateReader(bufio.NewReaderSize(src, readBufferSize))})
	s.deflate = &deflateWriter{out: deadlineWriter{s}, pool: &s.srv.deflaters}
	s.bw.Reset(s.deflate)
	return nil
}

// inflater reads the client's compressed stream. Data that does not
// inflate ends the session with BYE; the connection's own errors (EOF, a
// deadline) pass as they are.
type inflater struct {
	s *session
	r io.Reader
}

func (r *inflater) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if errors.Is(err, errCorruptDeflate) {
		r.s.requestBye("Invalid compressed data")
		return n, &byeError{"Invalid compressed data"}
	}
	return n, err
}

// Responses are compressed at BestSpeed: several times the speed of the
// default level for a little less compression of text, and its writers
// reset cheaply.
const deflateLevel = flate.BestSpeed

// deflateWriter compresses the session's responses (under its
// bufio.Writer) onto the connection. A compressor (with a buffer for
// its output, so that the connection sees a few large writes rather than
// one per 240 compressed bytes) is taken from the server's pool when a
// batch of responses starts and given back once it is flushed: an idle
// session holds none (a flate.Writer is near 1 MiB). Each batch then
// starts a new compressor with no history, which the DEFLATE stream
// allows: a sync flush ends on a byte boundary with no final block, and
// the next batch's blocks follow it (RFC 1951 §3.2.3). Write coalescing
// (limits.go) still applies below, to the compressed bytes. The cost: a
// client that stops reading in the middle of a large batch holds its
// compressor until the write timeout ends the session.
type deflateWriter struct {
	out  io.Writer // the connection (deadlineWriter)
	pool *sync.Pool
	cur  *deflater // while a batch is written
}

// deflater is a compressor and its output buffer, pooled.
type deflater struct {
	fw *flate.Writer
	bw *bufio.Writer
}

func newDeflater() any {
	fw, _ := flate.NewWriter(io.Discard, deflateLevel) // a valid level: no error
	return &deflater{fw: fw, bw: bufio.NewWriterSize(io.Discard, writeBufferSize)}
}

func (w *deflateWriter) Write(p []byte) (int, error) {
	if w.cur == nil {
		d, _ := w.pool.Get().(*deflater)
		if d == nil {
			d, _ = newDeflater().(*deflater)
		}
		d.bw.Reset(w.out)
		d.fw.Reset(d.bw)
		w.cur = d
	}
	return w.cur.fw.Write(p)
}

// Flush ends the batch: what was written is compressed, sync-flushed and
// sent, and the compressor goes back to the pool.
func (w *deflateWriter) Flush() error {
	d := w.cur
	if d == nil {
		return nil
	}
	w.cur = nil
	err := d.fw.Flush()
	if err == nil {
		err = d.bw.Flush()
	}
	// Nothing of the connection stays in the pool.
	d.bw.Reset(io.Discard)
	d.fw.Reset(io.Discard)
	w.pool.Put(d)
	return err
}
