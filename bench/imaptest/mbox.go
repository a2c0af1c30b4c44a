package imaptest

import (
	"bufio"
	"bytes"
	"io"
	"time"
)

// WriteMbox writes msgs as an mbox (RFC 4155, mboxrd quoting) for
// imaptest's mbox=: a "From " line before each message, ">From " lines
// escaped, CRLF turned into LF.
func WriteMbox(w io.Writer, msgs [][]byte) error {
	bw := bufio.NewWriter(w)
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format("Mon Jan _2 15:04:05 2006")
	for _, m := range msgs {
		bw.WriteString("From bench@example.test " + date + "\n")
		m = bytes.ReplaceAll(m, []byte("\r\n"), []byte("\n"))
		for _, line := range bytes.SplitAfter(m, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From ")) {
				bw.WriteByte('>')
			}
			bw.Write(line)
		}
		if !bytes.HasSuffix(m, []byte("\n")) {
			bw.WriteByte('\n')
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
