package bayes

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// TestHashStable pins the hash function: the models on disk are keyed by
// it, so it must never change.
func TestHashStable(t *testing.T) {
	for s, want := range map[string]uint64{
		"":             0xcbf29ce484222325, // the FNV-1a 64 offset basis
		"a":            0xaf63dc4c8601ec8c, // FNV-1a 64 test vector
		"foobar":       0x85944171f73967e8, // FNV-1a 64 test vector
		"subject:free": Hash("subject:" + "free"),
	} {
		if got := Hash(s); got != want {
			t.Errorf("Hash(%q) = %#x, want %#x", s, got, want)
		}
	}
	// A token is the hash of its lower-cased string.
	toks := tokensOf(t, "Subject: FREE\r\n\r\n")
	if !slices.Contains(toks, Hash("subject:free")) || !slices.Contains(toks, Hash("subject:caps:free")) {
		t.Error("Subject: FREE does not give the hashes of subject:free and subject:caps:free")
	}
}

func tokensOf(t *testing.T, msg string) []uint64 {
	t.Helper()
	toks, err := Tokenize(strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

const sampleMessage = "From sender@example.net Thu Aug 22 13:17:22 2002\r\n" +
	"Received: from mail.example.net (mail.example.net [192.0.2.20])\r\n\tby mx.example.org with ESMTP\r\n" +
	"Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=example.net;\r\n dkim=fail header.d=example.net\r\n" +
	"From: \"John =?utf-8?q?Do=C3=A9?=\" <John@Example.NET>\r\n" +
	"To: a@example.org, b@example.org\r\n" +
	"Subject: =?utf-8?q?Caf=C3=A9_deals?= FREE money\r\n" +
	"Message-ID: <123@bulk.example.net>\r\n" +
	"X-Mailer: Bulk Mailer 3\r\n" +
	"X-Spam-Status: No, score=-5\r\n" +
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n" +
	"\r\n" +
	"preamble words\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=inner\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=iso-8859-1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Gr=FC=DFe! Visit http://www.deals.example.com/x?y=3D1 for $100 now, 12345=\r\n" +
	" and aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PGEgaHJlZj0iaHR0cHM6Ly9ldmlsLmV4YW1wbGUubmV0L3AiPkNsaWNrIGhlcmU8L2E+IFZJPCEtLSB4IC0tPkFHUkEgJmFtcDsgbW9yZQ==\r\n" +
	"--inner--\r\n" +
	"--outer\r\n" +
	"Content-Type: application/octet-stream; name=\"invoice.EXE\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA4fug4AtAnNIbgBTM0hVGhpcyBwcm9ncmFt\r\n" +
	"--outer--\r\n" +
	"epilogue words\r\n"

func TestTokenizerFinds(t *testing.T) {
	got := tokenStrings(sampleMessage, "auth:dmarc=pass")
	for _, want := range []string{
		"f/auth:dmarc=pass",
		"h:received", "received:mail.example.net", "received:example.net", "received:ip:192.0.2",
		"ar:spf=pass", "ar:dkim=fail",
		"from:addr:john@example.net", "from:domain:example.net", "from:doé",
		"to:domain:example.org",
		"subject:café", "subject:deals", "subject:free", "subject:caps:free", "subject:bi:deals free",
		"message-id:domain:bulk.example.net",
		"x-mailer:bulk", "x-mailer:mailer",
		"ct:multipart/mixed", "ct:multipart/alternative", "ct:text/plain", "charset:iso-8859-1", "cte:quoted-printable",
		"grüße", "visit", "$100", "bi:visit http", "skip:a 4",
		"proto:http", "url:www.deals.example.com", "url:deals.example.com", "url:example.com",
		"ct:text/html", "tag:a", "proto:https", "url:evil.example.net", "click", "here", "viagra", "more",
		"ct:application/octet-stream", "filename:exe",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("token %q not found", want)
		}
	}
	for _, bad := range []string{
		"h:x-spam-status", "score", // an earlier filter's verdict is not read
		"preamble", "epilogue", // outside the MIME parts
		"12345", "123", // bare numbers
		"tvqqaamaaaaeaaaa", // the attachment is not decoded as text
	} {
		if slices.Contains(got, bad) {
			t.Errorf("token %q should not be there", bad)
		}
	}
	// A feature cannot be forged by the text: its namespace differs.
	if slices.Contains(tokenStrings("Subject: auth:dmarc=pass\r\n\r\nauth:dmarc=pass"), "f/auth:dmarc=pass") {
		t.Error("message text produced a feature token")
	}
}

func TestTokensSortedDistinctAndStreamed(t *testing.T) {
	whole := tokensOf(t, sampleMessage)
	if !slices.IsSorted(whole) || len(slices.Compact(slices.Clone(whole))) != len(whole) {
		t.Fatal("tokens not sorted and distinct")
	}
	// Written one byte at a time, the same tokens.
	tk := NewTokenizer()
	for i := range len(sampleMessage) {
		tk.Write([]byte{sampleMessage[i]})
	}
	if !slices.Equal(tk.Tokens(), whole) {
		t.Error("streamed tokens differ")
	}
	if got, err := Tokenize(iotest.OneByteReader(strings.NewReader(sampleMessage))); err != nil || !slices.Equal(got, whole) {
		t.Errorf("Tokenize through a one-byte reader: %v", err)
	}
	// LF line ends give the same tokens as CRLF.
	if lf := tokensOf(t, strings.ReplaceAll(sampleMessage, "\r\n", "\n")); !slices.Equal(lf, whole) {
		t.Error("LF line ends give other tokens")
	}
	// Tokens is repeatable.
	if !slices.Equal(tk.Tokens(), whole) {
		t.Error("Tokens twice differ")
	}
}

func TestTokenizerBounds(t *testing.T) {
	// Past MaxInput nothing is read.
	big := "Subject: x\r\n\r\n" + strings.Repeat("filler ", MaxInput/7+1) + "needleword"
	if slices.Contains(tokenStrings(big), "needleword") {
		t.Error("a word past MaxInput was read")
	}
	// Many distinct words: at most MaxTokens, the first ones (headers
	// come first).
	var b strings.Builder
	b.WriteString("Subject: keepme\r\n\r\n")
	for i := range 3 * MaxTokens {
		b.WriteString("w")
		for n := i; n > 0; n /= 26 {
			b.WriteByte(byte('a' + n%26))
		}
		b.WriteString("xyz ")
	}
	toks := tokensOf(t, b.String())
	if len(toks) != MaxTokens {
		t.Errorf("%d tokens, want MaxTokens (%d)", len(toks), MaxTokens)
	}
	if !slices.Contains(toks, Hash("subject:keepme")) {
		t.Error("the header token was dropped for body words")
	}
	// Deep nesting stops.
	deep := "Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
	for i := 1; i < 20; i++ {
		deep += "--b" + string(rune('0'+i%10)) + "x\r\n"
	}
	tokensOf(t, deep)
}

func TestTokenizerDecodes(t *testing.T) {
	for _, c := range []struct {
		name, msg string
		want      []string
	}{
		{"base64 text", "Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte("hidden message inside")) + "\r\n",
			[]string{"hidden", "message", "inside", "cte:base64"}},
		{"base64 broken lines", "Content-Transfer-Encoding: BASE64\r\n\r\n" + wrap(base64.StdEncoding.EncodeToString([]byte("wrapped lines decode fine")), 7),
			[]string{"wrapped", "lines", "decode", "fine"}},
		{"windows-1252", "Content-Type: text/plain; charset=windows-1252\r\n\r\n\x93quoted\x94 caf\xe9 \x9cuvre",
			[]string{"quoted", "café", "œuvre"}},
		{"unknown charset keeps ascii", "Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9 english words",
			[]string{"charset:koi8-r", "english", "words"}},
		{"html entities and comments", "Content-Type: text/html\r\n\r\n<p>fr&#101;e&nbsp;c<!--x-->ash &amp; m&#x6f;re</p><script>var hidden=1</script><style>.x{}</style>ok!",
			[]string{"free", "cash", "more", "tag:p", "tag:script"}},
		{"url forms", "\r\nsee https://user@host.example.org:8080/a and www.example.com. and http://192.0.2.1/x and http://ex%61mple.com/",
			[]string{"url:userinfo", "url:host.example.org", "url:www.example.com", "url:ip", "url:encoded"}},
		{"message/rfc822", "Content-Type: message/rfc822\r\n\r\nSubject: inner subject\r\n\r\ninner body",
			[]string{"subject:inner", "inner", "body", "ct:message/rfc822"}},
		{"folded header", "Subject: one\r\n two\r\n\tthree\r\n\r\n", []string{"subject:one", "subject:two", "subject:three", "subject:bi:one two"}},
		{"no body", "Subject: lonely", []string{"subject:lonely"}},
		{"received-spf", "Received-SPF: softfail (domain does not designate)\r\n\r\n", []string{"ar:spf=softfail"}},
		{"no address", "From: undisclosed\r\n\r\n", []string{"from:no-address"}},
	} {
		got := tokenStrings(c.msg)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: token %q not in %q", c.name, w, got)
			}
		}
	}
}

func wrap(s string, n int) string {
	var b bytes.Buffer
	for len(s) > n {
		b.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
	b.WriteString(s + "\r\n")
	return b.String()
}

func TestEachPart(t *testing.T) {
	body := "pre\r\n--b\r\none\r\n--bb not a delimiter line\r\n--b\r\ntwo\r\n--b--\r\nepi"
	var parts []string
	eachPart([]byte(body), []byte("b"), func(p []byte) bool {
		parts = append(parts, string(p))
		return true
	})
	want := []string{"one\r\n--bb not a delimiter line", "two"}
	if !slices.Equal(parts, want) {
		t.Errorf("parts = %q, want %q", parts, want)
	}
}
