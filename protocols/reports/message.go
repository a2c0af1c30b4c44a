package reports

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// reportMail is one report message: a short text part and the gzipped
// report as an attachment.
type reportMail struct {
	From, Subject, MessageID string
	To                       []string
	Date                     time.Time
	Extra                    []string // further header fields, "Name: value"
	// ContentType is the multipart type with its parameters but the
	// boundary: "multipart/mixed" or `multipart/report; report-type="tlsrpt"`.
	ContentType    string
	Text           string
	AttachmentType string // application/gzip, application/tlsrpt+gzip
	Filename       string
	Attachment     []byte
}

// bytes formats the message with CRLF line ends, the attachment in
// base64 lines of 76 characters (RFC 2045 §6.8).
func (m reportMail) bytes() []byte {
	sum := sha256.Sum256([]byte(m.MessageID))
	boundary := "surat-report-" + hex.EncodeToString(sum[:12])
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	w("From: <%s>", m.From)
	w("To: %s", strings.Join(angle(m.To), ", "))
	w("Subject: %s", m.Subject)
	w("Date: %s", m.Date.Format(time.RFC1123Z))
	w("Message-ID: <%s>", m.MessageID)
	w("Auto-Submitted: auto-generated") // RFC 3834 §5
	for _, f := range m.Extra {
		w("%s", f)
	}
	w("MIME-Version: 1.0")
	w("Content-Type: %s; boundary=\"%s\"", m.ContentType, boundary)
	w("")
	w("This is a multipart message in MIME format.")
	w("")
	w("--%s", boundary)
	w("Content-Type: text/plain; charset=utf-8")
	w("Content-Transfer-Encoding: 7bit")
	w("")
	for _, l := range strings.Split(m.Text, "\n") {
		w("%s", l)
	}
	w("--%s", boundary)
	w("Content-Type: %s; name=\"%s\"", m.AttachmentType, m.Filename)
	w("Content-Transfer-Encoding: base64")
	w("Content-Disposition: attachment; filename=\"%s\"", m.Filename)
	w("")
	enc := base64.StdEncoding.EncodeToString(m.Attachment)
	for len(enc) > 76 {
		w("%s", enc[:76])
		enc = enc[76:]
	}
	if enc != "" {
		w("%s", enc)
	}
	w("--%s--", boundary)
	return b.Bytes()
}

func angle(addrs []string) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = "<" + a + ">"
	}
	return out
}

// gzipped compresses data as one gzip member named name, without a
// modification time, so the same report gives the same bytes.
func gzipped(name string, data []byte) ([]byte, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Name = name
	if _, err := zw.Write(data); err != nil {
		return nil, fmt.Errorf("reports: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("reports: gzip: %w", err)
	}
	return b.Bytes(), nil
}
