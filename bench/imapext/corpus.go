package imapext

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Corpus is the bench's mailbox: n messages in threads, the same bytes
// for both servers. Message i has Message-ID <i.imapext@bench.example.test>;
// about 60 % reply to an earlier message among the previous 200 (In-Reply-To
// and References as a mail client writes them, Subject "Re: " the root's),
// the rest start a thread. Dates follow arrival roughly, with up to three
// days of jitter, so that SORT (DATE) is not the arrival order. Bodies are
// 300 to 1,500 bytes of text.
func Corpus(n int) [][]byte {
	type meta struct {
		subject string
		refs    []string
	}
	r := rand.New(rand.NewPCG(uint64(n), 0x1e4e57))
	metas := make([]meta, n)
	out := make([][]byte, n)
	base := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike " +
		"november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu")
	text := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	for i := range n {
		id := fmt.Sprintf("<%d.imapext@bench.example.test>", i)
		var m meta
		var inReplyTo string
		if i > 0 && r.IntN(10) < 6 {
			p := i - 1 - r.IntN(min(i, 200))
			parent := metas[p]
			m.subject = parent.subject
			m.refs = append(append([]string{}, parent.refs...), fmt.Sprintf("<%d.imapext@bench.example.test>", p))
			if len(m.refs) > 20 {
				m.refs = m.refs[len(m.refs)-20:]
			}
			inReplyTo = m.refs[len(m.refs)-1]
		} else {
			m.subject = fmt.Sprintf("Topic %d: %s", i, text(3))
		}
		metas[i] = m
		date := base.Add(time.Duration(i)*7*time.Minute + time.Duration(r.IntN(3*24*60)-36*60)*time.Minute)
		var b strings.Builder
		fmt.Fprintf(&b, "From: \"Sender %d\" <sender%d@other.test>\r\n", i%23, i%23)
		b.WriteString("To: <u1@example.test>\r\n")
		if inReplyTo != "" {
			fmt.Fprintf(&b, "Subject: Re: %s\r\n", m.subject)
			fmt.Fprintf(&b, "In-Reply-To: %s\r\nReferences: %s\r\n", inReplyTo, strings.Join(m.refs, "\r\n "))
		} else {
			fmt.Fprintf(&b, "Subject: %s\r\n", m.subject)
		}
		fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: %s\r\n", date.Format(time.RFC1123Z), id)
		b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
		for range 5 + r.IntN(20) {
			b.WriteString(text(8))
			b.WriteString("\r\n")
		}
		out[i] = []byte(b.String())
	}
	return out
}
