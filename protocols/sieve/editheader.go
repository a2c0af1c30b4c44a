package sieve

import (
	"fmt"
	"mime"
	"strings"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// protectedField lists the fields editheader must not change (RFC 5293
// §6: Received; Surat also keeps Auto-Submitted, which loop prevention
// relies on, as Pigeonhole does by default).
func protectedField(name string) bool {
	switch strings.ToLower(name) {
	case "received", "auto-submitted":
		return true
	}
	return false
}

// addHeader runs addheader (RFC 5293 §4): at the top, or the bottom with
// :last. The value is folded; non-ASCII text is encoded (RFC 2047).
func (st *state) addHeader(f *frame, o *op) error {
	name, err := f.str(st, o.pos[0])
	if err != nil {
		return &RuntimeError{Line: o.line, Err: err}
	}
	value, err := f.str(st, o.pos[1])
	if err != nil {
		return &RuntimeError{Line: o.line, Err: err}
	}
	if !validFieldName(name) {
		return &RuntimeError{Line: o.line, Err: fmt.Errorf("invalid header field name %q", name)}
	}
	if protectedField(name) {
		st.logf("addheader " + name + " refused (protected)")
		return nil
	}
	value = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(value)
	if !isASCII(value) {
		value = mimeQEncode(value)
	}
	fl := field{name: name, raw: mailheader.Fold(name, value)}
	if st.grown+len(fl.raw) > st.lim.MaxHeaderGrowth {
		return &RuntimeError{Line: o.line, Err: ErrHeaderTooLarge}
	}
	st.grown += len(fl.raw)
	if o.has("last") {
		st.fields = append(st.fields, fl)
	} else {
		st.fields = append([]field{fl}, st.fields...)
	}
	st.edited = true
	st.logf("addheader " + name)
	return nil
}

// deleteHeader runs deleteheader (RFC 5293 §5): every occurrence, or
// the :index'th (from the end with :last); with value patterns only
// the occurrences whose value matches.
func (st *state) deleteHeader(f *frame, o *op) error {
	name, err := f.str(st, o.pos[0])
	if err != nil {
		return &RuntimeError{Line: o.line, Err: err}
	}
	if protectedField(name) {
		st.logf("deleteheader " + name + " refused (protected)")
		return nil
	}
	var idx []int
	for i, fl := range st.fields {
		if strings.EqualFold(fl.name, name) {
			idx = append(idx, i)
		}
	}
	if a, ok := o.tags["index"]; ok {
		n := int(a.num)
		if n < 1 || n > len(idx) {
			return nil
		}
		if o.has("last") {
			idx = idx[len(idx)-n : len(idx)-n+1]
		} else {
			idx = idx[n-1 : n]
		}
	}
	drop := map[int]bool{}
	for _, i := range idx {
		if len(o.pos) > 1 {
			ok, err := st.match(f, o, []string{decodeHeader(st.fields[i].value())}, f.strs(st, o.pos[1]))
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		drop[i] = true
	}
	if len(drop) == 0 {
		return nil
	}
	kept := st.fields[:0:0]
	for i, fl := range st.fields {
		if !drop[i] {
			kept = append(kept, fl)
		}
	}
	st.fields = kept
	st.edited = true
	st.logf("deleteheader " + name)
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// mimeQEncode encodes a UTF-8 value as RFC 2047 Q words; Go's encoder
// splits it into words short enough to fold between.
func mimeQEncode(s string) string {
	return mime.QEncoding.Encode("utf-8", s)
}
