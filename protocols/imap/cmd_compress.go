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

// deflateChunk is how much of a batch of responses is compressed at a
// time.
const deflateChunk = 32 << 10

// deflateWriter compresses the session's responses (under its
// bufio.Writer) onto the connection, deflateChunk at a time: each chunk
// is compressed whole by a compressor taken from the server's pool and
// given back before the compressed bytes are written. So a compressor (a
// flate.Writer is near 1 MiB) is held only while it works, never by an
// idle session nor by one whose client stopped reading (which holds at
// most a chunk and its compressed form until the write timeout), and
// the connection sees one write per chunk. Each chunk ends with a sync
// flush and the next starts a new compressor with no history, which the
// DEFLATE stream allows: a sync flush ends on a byte boundary with no
// final block, and the next blocks follow it (RFC 1951 §3.2.3); at 32
// KiB a chunk is the window's size, so little compression is lost.
// Write coalescing (limits.go) still applies below, to the compressed
// bytes.
type deflateWriter struct {
	out   io.Writer // the connection (deadlineWriter)
	pool  *sync.Pool
	plain []byte       // the batch's bytes not compressed yet
	z     bytes.Buffer // a chunk compressed
}

func (w *deflateWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), deflateChunk-len(w.plain))
		w.plain = append(w.plain, p[:k]...)
		p = p[k:]
		if len(w.plain) == deflateChunk {
			if err := w.send(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// Flush ends the batch: what is left is compressed, sync-flushed and
// sent, and the buffers go (an idle session keeps none).
func (w *deflateWriter) Flush() error {
	err := w.send()
	w.plain, w.z = nil, bytes.Buffer{}
	return err
}

// send compresses the pending bytes with a pooled compressor, gives it
// back, then writes them.
func (w *deflateWriter) send() error {
	if len(w.plain) == 0 {
		return nil
	}
	fw, _ := w.pool.Get().(*flate.Writer)
	if fw == nil {
		fw, _ = flate.NewWriter(&w.z, deflateLevel) // a valid level: no error
	} else {
		fw.Reset(&w.z)
	}
	_, err := fw.Write(w.plain)
	if err == nil {
		err = fw.Flush()
	}
	fw.Reset(io.Discard) // nothing of the session stays in the pool
	w.pool.Put(fw)
	w.plain = w.plain[:0]
	if err != nil {
		return err
	}
	_, err = w.out.Write(w.z.Bytes())
	w.z.Reset()
	return err
}
