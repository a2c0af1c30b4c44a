package imap

import (
	"bufio"
	"errors"
	"io"
)

// inflate.go: the client's side of COMPRESS=DEFLATE (RFC 4978) is read by
// this raw DEFLATE decoder (RFC 1951) rather than compress/flate, because
// a command must be handed to the dispatcher as soon as its bytes are in,
// whatever flush the client used. compress/flate hands out what it
// inflated only at a sync flush's empty stored block, and
// klauspost/compress's partial-block mode reads 10 bits past the end of a
// dynamic block; zlib's Z_PARTIAL_FLUSH (isync's mbsync uses it) ends with
// an empty fixed block of 10 bits of which up to 7 stay in the client's
// bit buffer until its next command. Like zlib's inflate, this decoder
// inflates whatever the bytes received allow and returns it before it
// waits for more: each step (a block header, a symbol, a run of stored
// bytes) is decoded from the bytes already buffered and committed only
// once complete; when one cannot complete, what was inflated is returned,
// and only with nothing to return does the decoder wait for the client.

// errCorruptDeflate is data that is not a DEFLATE stream.
var errCorruptDeflate = errors.New("imap: invalid DEFLATE data")

const (
	inflateWindow = 1 << 15 // RFC 1951 §2: distances reach 32 KiB back
	// inflateUnread bounds the inflated bytes not yet read, so that the
	// window never overwrites them (a symbol adds at most 258).
	inflateUnread = 1 << 14
)

// inflateHuffman is a canonical Huffman code (RFC 1951 §3.2.2) as counts
// of codes per length and the symbols in code order, decoded a bit at a
// time.
type inflateHuffman struct {
	count  [16]uint16
	symbol [288]uint16
}

// build makes the code of the given code lengths; false when they are
// over-subscribed. An incomplete code is accepted: its unused codes fail
// to decode.
func (h *inflateHuffman) build(lengths []uint8) bool {
	h.count = [16]uint16{}
	for _, l := range lengths {
		h.count[l]++
	}
	left := 1
	for l := 1; l < 16; l++ {
		left = left<<1 - int(h.count[l])
		if left < 0 {
			return false
		}
	}
	var offs [16]uint16
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(sym)
			offs[l]++
		}
	}
	return true
}

// RFC 1951 §3.2.5: base lengths and distances, and their extra bits.
var (
	inflateLenBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	inflateLenExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	inflateDistBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	inflateDistExt  = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// RFC 1951 §3.2.7: the order of the code length code's lengths.
	inflateClenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// inflateState is where the decoder is in the stream.
type inflateState uint8

const (
	inflHeader inflateState = iota // at a block header
	inflStored                     // in a stored block's data
	inflCodes                      // in a Huffman-coded block
	inflDone                       // after the final block
)

// inflateReader inflates a raw DEFLATE stream read from src.
type inflateReader struct {
	src *bufio.Reader
	err error

	state      inflateState
	final      bool // the current block is the last
	storedLeft int
	lit, dist  *inflateHuffman
	fixedLit   *inflateHuffman
	fixedDist  *inflateHuffman
	dynLit     inflateHuffman
	dynDist    inflateHuffman

	// Bits of the input: committed (whole steps) and working.
	cbits, bits uint64
	cnb, nb     uint
	view        []byte // the buffered input this step reads
	pos, cpos   int    // working and committed offsets in view

	win  [inflateWindow]byte
	w, r uint64 // bytes inflated and bytes read out, in all
}

func newInflateReader(src *bufio.Reader) *inflateReader {
	z := &inflateReader{src: src, fixedLit: &inflateHuffman{}, fixedDist: &inflateHuffman{}}
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	z.fixedLit.build(l[:])
	for i := range 30 {
		l[i] = 5
	}
	z.fixedDist.build(l[:30])
	return z
}

// Read returns inflated bytes: what the input received allows, at once.
func (z *inflateReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if z.w > z.r {
			if z.err != nil || z.w-z.r >= uint64(len(p)) || z.w-z.r >= inflateUnread {
				return z.copyOut(p), nil
			}
		} else if z.err != nil {
			return 0, z.err
		}
		more, err := z.run()
		switch {
		case err != nil:
			z.err = err
		case !more:
		case z.w > z.r:
			// The input so far is inflated: return it before waiting.
			return z.copyOut(p), nil
		default:
			// Nothing to return: wait for at least one more byte.
			if _, err := z.src.Peek(z.src.Buffered() + 1); err != nil {
				switch {
				case errors.Is(err, bufio.ErrBufferFull):
					err = errCorruptDeflate // no step needs a buffer's worth
				case err == io.EOF:
					err = io.ErrUnexpectedEOF // the stream's end is a final block
				}
				z.err = err
			}
		}
	}
}

// copyOut copies unread inflated bytes into p.
func (z *inflateReader) copyOut(p []byte) int {
	n := 0
	for n < len(p) && z.r < z.w {
		i := int(z.r % inflateWindow)
		c := copy(p[n:], z.win[i:min(len(z.win), i+int(min(z.w-z.r, uint64(len(p)-n))))])
		n += c
		z.r += uint64(c)
	}
	return n
}

// run decodes complete steps from the buffered input until it runs out
// (more: the next step needs bytes not yet received) or enough is
// inflated to be read; what was decoded is committed.
func (z *inflateReader) run() (more bool, err error) {
	z.view, _ = z.src.Peek(z.src.Buffered())
	z.pos, z.cpos = 0, 0
	z.bits, z.nb = z.cbits, z.cnb
	defer func() {
		_, _ = z.src.Discard(z.cpos)
		z.view = nil
	}()
	for z.w-z.r < inflateUnread {
		ok, err := z.step()
		if err != nil {
			return false, err
		}
		if !ok {
			return true, nil
		}
		z.cpos, z.cbits, z.cnb = z.pos, z.bits, z.nb
		if z.state == inflDone {
			return false, io.EOF
		}
	}
	return false, nil
}

// need makes n bits available; false when the buffered input ends first.
func (z *inflateReader) need(n uint) bool {
	for z.nb < n {
		if z.pos >= len(z.view) {
			return false
		}
		z.bits |= uint64(z.view[z.pos]) << z.nb
		z.pos++
		z.nb += 8
	}
	return true
}

// take consumes n available bits.
func (z *inflateReader) take(n uint) uint32 {
	v := uint32(z.bits & (1<<n - 1))
	z.bits >>= n
	z.nb -= n
	return v
}

// getBits reads n bits (LSB first, RFC 1951 §3.1.1).
func (z *inflateReader) getBits(n uint) (uint32, bool) {
	if !z.need(n) {
		return 0, false
	}
	return z.take(n), true
}

// decode reads one symbol of h: -1 when the input ends first, -2 when the
// bits are no code of h.
func (z *inflateReader) decode(h *inflateHuffman) int {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, ok := z.getBits(1)
		if !ok {
			return -1
		}
		code |= int(b)
		count := int(h.count[l])
		if code-count < first {
			return int(h.symbol[index+code-first])
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return -2
}

// step decodes one step from the working input: false when it needs
// bytes not yet received (nothing of it is kept).
func (z *inflateReader) step() (bool, error) {
	switch z.state {
	case inflHeader:
		return z.header()
	case inflStored:
		return z.stored()
	case inflCodes:
		return z.symbol()
	}
	return false, io.EOF
}

// header reads a block header (RFC 1951 §3.2.3), and a stored block's
// lengths (§3.2.4) or a dynamic block's code (§3.2.7).
func (z *inflateReader) header() (bool, error) {
	h, ok := z.getBits(3)
	if !ok {
		return false, nil
	}
	z.final = h&1 == 1
	switch h >> 1 {
	case 0:
		z.take(z.nb % 8) // to a byte boundary
		if !z.need(32) {
			return false, nil
		}
		n, nn := z.take(16), z.take(16)
		if n != ^nn&0xffff {
			return false, errCorruptDeflate
		}
		z.storedLeft = int(n)
		z.state = inflStored
		if n == 0 {
			z.endBlock()
		}
	case 1:
		z.lit, z.dist, z.state = z.fixedLit, z.fixedDist, inflCodes
	case 2:
		return z.dynamic()
	default:
		return false, errCorruptDeflate
	}
	return true, nil
}

// dynamic reads a dynamic block's code lengths (RFC 1951 §3.2.7).
func (z *inflateReader) dynamic() (bool, error) {
	if !z.need(14) {
		return false, nil
	}
	nlen, ndist, ncode := int(z.take(5))+257, int(z.take(5))+1, int(z.take(4))+4
	if nlen > 286 || ndist > 30 {
		return false, errCorruptDeflate
	}
	var lengths [320]uint8
	for i := range ncode {
		b, ok := z.getBits(3)
		if !ok {
			return false, nil
		}
		lengths[inflateClenOrder[i]] = uint8(b)
	}
	var clen inflateHuffman
	if !clen.build(lengths[:19]) {
		return false, errCorruptDeflate
	}
	lengths = [320]uint8{}
	for i := 0; i < nlen+ndist; {
		sym := z.decode(&clen)
		switch {
		case sym == -1:
			return false, nil
		case sym < 0:
			return false, errCorruptDeflate
		case sym < 16:
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var v uint8
		var rep uint32
		var ok bool
		switch sym {
		case 16:
			if i == 0 {
				return false, errCorruptDeflate
			}
			v = lengths[i-1]
			rep, ok = z.getBits(2)
			rep += 3
		case 17:
			rep, ok = z.getBits(3)
			rep += 3
		default:
			rep, ok = z.getBits(7)
			rep += 11
		}
		if !ok {
			return false, nil
		}
		if i+int(rep) > nlen+ndist {
			return false, errCorruptDeflate
		}
		for range rep {
			lengths[i] = v
			i++
		}
	}
	if lengths[256] == 0 || !z.dynLit.build(lengths[:nlen]) || !z.dynDist.build(lengths[nlen:nlen+ndist]) {
		return false, errCorruptDeflate
	}
	z.lit, z.dist, z.state = &z.dynLit, &z.dynDist, inflCodes
	return true, nil
}

// stored copies a stored block's bytes (RFC 1951 §3.2.4) that are in.
func (z *inflateReader) stored() (bool, error) {
	n := min(z.storedLeft, len(z.view)-z.pos, int(inflateUnread-(z.w-z.r)))
	if n == 0 {
		return false, nil
	}
	for _, b := range z.view[z.pos : z.pos+n] {
		z.win[z.w%inflateWindow] = b
		z.w++
	}
	z.pos += n
	z.storedLeft -= n
	if z.storedLeft == 0 {
		z.endBlock()
	}
	return true, nil
}

// symbol decodes a literal, a length and distance, or the end of the
// block (RFC 1951 §3.2.5).
func (z *inflateReader) symbol() (bool, error) {
	sym := z.decode(z.lit)
	switch {
	case sym == -1:
		return false, nil
	case sym < 0 || sym > 285:
		return false, errCorruptDeflate
	case sym < 256:
		z.win[z.w%inflateWindow] = byte(sym)
		z.w++
		return true, nil
	case sym == 256:
		z.endBlock()
		return true, nil
	}
	sym -= 257
	e, ok := z.getBits(uint(inflateLenExtra[sym]))
	if !ok {
		return false, nil
	}
	length := int(inflateLenBase[sym]) + int(e)
	ds := z.decode(z.dist)
	switch {
	case ds == -1:
		return false, nil
	case ds < 0 || ds > 29:
		return false, errCorruptDeflate
	}
	e, ok = z.getBits(uint(inflateDistExt[ds]))
	if !ok {
		return false, nil
	}
	dist := uint64(inflateDistBase[ds]) + uint64(e)
	if dist > z.w || dist > inflateWindow {
		return false, errCorruptDeflate
	}
	for range length {
		z.win[z.w%inflateWindow] = z.win[(z.w-dist)%inflateWindow]
		z.w++
	}
	return true, nil
}

// endBlock ends the current block: the next header, or the stream's end.
func (z *inflateReader) endBlock() {
	z.state = inflHeader
	if z.final {
		z.state = inflDone
	}
}
