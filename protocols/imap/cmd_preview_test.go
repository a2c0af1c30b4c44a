package imap

import "testing"

// TestCmdPreview: FETCH PREVIEW and PREVIEW (LAZY) (RFC 8970), from the
// first text part, HTML reduced to text, white space collapsed.
func TestCmdPreview(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "previewcmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	appendRaw(rc, "INBOX", "Subject: a\r\n\r\nHello   there,\r\nhow are\tyou?\r\n")
	appendRaw(rc, "INBOX", "Subject: b\r\nContent-Type: text/html\r\n\r\n<html><head><title>x</title></head><body><p>Hi <b>Bob</b></p></body></html>\r\n")
	appendRaw(rc, "INBOX", "Subject: c\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n")
	rc.conn.Close()
	runScript(t, addr, user, `
		C: a SELECT INBOX
		S: ...
		S: a OK
		C: b FETCH 1:3 (PREVIEW)
		S: * 1 FETCH (PREVIEW "Hello there, how are you?")
		S: * 2 FETCH (PREVIEW "Hi Bob")
		S: * 3 FETCH (PREVIEW "")
		S: b OK
		C: c UID FETCH 1 (UID PREVIEW (LAZY))
		S: * 1 FETCH (UID 1 PREVIEW "Hello there, how are you?")
		S: c OK
		# PREVIEW reads the body without setting \Seen.
		C: d FETCH 1 FLAGS
		S: * 1 FETCH (FLAGS (\Recent))
		S: d OK
		C: e FETCH 1 (PREVIEW (FOO))
		S: e BAD`)
}
