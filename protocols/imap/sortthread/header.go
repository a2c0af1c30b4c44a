package sortthread

import "bytes"

// Fields are the header fields SORT and THREAD read, each the first
// occurrence's value, unfolded (RFC 5322 §2.2.3), not decoded.
type Fields struct {
	Subject, From, To, Cc, Date, MessageID, References, InReplyTo string
}

// ParseFields reads Fields from a message's header block (the header
// only, or the whole message: reading stops at the blank line). It is
// lenient: a line that is not a field is skipped.
func ParseFields(header []byte) Fields {
	var f Fields
	for len(header) > 0 {
		line, rest := nextLine(header)
		header = rest
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break // the blank line that ends the header
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		dst := f.slot(bytes.TrimRight(line[:colon], " \t"))
		// Continuation lines belong to this field whether it is wanted
		// or not.
		value := line[colon+1:]
		var folded [][]byte
		for len(header) > 0 && (header[0] == ' ' || header[0] == '\t') {
			var cont []byte
			cont, header = nextLine(header)
			if dst != nil && *dst == "" {
				folded = append(folded, cont)
			}
		}
		if dst == nil || *dst != "" {
			continue
		}
		v := bytes.TrimRight(value, "\r\n")
		if len(folded) > 0 {
			v = bytes.Clone(v)
			for _, c := range folded {
				v = append(v, bytes.TrimRight(c, "\r\n")...)
			}
		}
		s := string(bytes.TrimSpace(v))
		if s == "" {
			s = " " // present but empty: later occurrences do not count
		}
		*dst = s
	}
	for _, p := range []*string{&f.Subject, &f.From, &f.To, &f.Cc, &f.Date, &f.MessageID, &f.References, &f.InReplyTo} {
		if *p == " " {
			*p = ""
		}
	}
	return f
}

func nextLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1], b[i+1:]
	}
	return b, nil
}

// slot is where the field named name goes, or nil.
func (f *Fields) slot(name []byte) *string {
	switch len(name) {
	case 2:
		if bytes.EqualFold(name, []byte("To")) {
			return &f.To
		}
		if bytes.EqualFold(name, []byte("Cc")) {
			return &f.Cc
		}
	case 4:
		if bytes.EqualFold(name, []byte("From")) {
			return &f.From
		}
		if bytes.EqualFold(name, []byte("Date")) {
			return &f.Date
		}
	case 7:
		if bytes.EqualFold(name, []byte("Subject")) {
			return &f.Subject
		}
	case 10:
		if bytes.EqualFold(name, []byte("Message-ID")) {
			return &f.MessageID
		}
		if bytes.EqualFold(name, []byte("References")) {
			return &f.References
		}
	case 11:
		if bytes.EqualFold(name, []byte("In-Reply-To")) {
			return &f.InReplyTo
		}
	}
	return nil
}
