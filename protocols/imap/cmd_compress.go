package imap

import (
	"bufio"
	"bytes"
	"compress/flate"
	"io"
	"sync"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// COMPRESS=DEFLATE (RFC 4978): after the tagged OK, both directions are a
// raw DEFLATE stream (RFC 1951).
//
// A Go flate.Writer holds over 1 MiB of state: one per compressed session
// would cost a node gigabytes. So each piece the session sends (a flush
// of its buffer: up to compressBufferSize octets, or less at the end of a
// command) is compressed on its own by a writer from the server's pool
// and ends with a sync flush (an empty stored block, RFC 1951 §3.2.4): the
// client's inflater sees one continuous stream whose back-references
// never reach before the piece. The ratio is a little lower than with one
// writer per session; the memory is the session's buffer and its
// inflater's 32 KiB window.
const compressBufferSize = 32 << 10

// errCompressionActive: COMPRESS twice (RFC 4978 §3).
var errCompressionActive = no("COMPRESSIONACTIVE", "DEFLATE is already active")

// cmdCompress: COMPRESS DEFLATE (RFC 4978 §3).
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
		return bad("Unknown compression mechanism") // RFC 4978 §3
	}
	if s.compressed {
		return errCompressionActive
	}
	c.text = "DEFLATE active"
	c.after = s.startCompression
	return nil
}

// startCompression switches the session to DEFLATE once COMPRESS's OK is
// sent: what the client sent after the command (already buffered) is the
// start of its compressed stream.
func (s *session) startCompression() error {
	var src io.Reader = connReader{s}
	if n := s.br.Buffered(); n > 0 {
		ahead, _ := s.br.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), src)
	}
	s.br.Reset(flate.NewReader(src))
	s.bw = bufio.NewWriterSize(&deflateWriter{s: s}, compressBufferSize)
	s.enc = wire.NewEncoder(s.bw)
	s.applyEnabled()
	s.compressed = true
	return nil
}

// connReader reads the session's current connection.
type connReader struct{ s *session }

func (r connReader) Read(p []byte) (int, error) { return r.s.conn.Read(p) }

// deflateWriter compresses each write on its own, with a pooled writer,
// ending it with a sync flush (see COMPRESS above).
type deflateWriter struct{ s *session }

func (w *deflateWriter) Write(p []byte) (int, error) {
	zw := w.s.srv.deflaters.Get().(*flate.Writer)
	defer w.s.srv.deflaters.Put(zw)
	zw.Reset(deadlineWriter{w.s})
	if _, err := zw.Write(p); err != nil {
		return 0, err
	}
	if err := zw.Flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// newDeflaters is the server's pool of DEFLATE writers.
func newDeflaters() *sync.Pool {
	return &sync.Pool{New: func() any {
		zw, _ := flate.NewWriter(io.Discard, flate.BestSpeed) // a valid level: no error
		return zw
	}}
}
