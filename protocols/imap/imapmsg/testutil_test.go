package imapmsg

import "strings"

// crlf turns a message written with LF line ends into the CRLF form mail
// is stored in.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }
