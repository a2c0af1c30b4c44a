package bayes

import (
	"context"
	"strings"
	"testing"
	"time"
)

// benchMessage is a 4 KiB message in the usual shape: a few Received
// fields, a multipart/alternative body with text and HTML.
var benchMessage = func() string {
	var b strings.Builder
	b.WriteString("Received: from mail.example.net (mail.example.net [192.0.2.20]) by mx.example.org with ESMTPS id abc\r\n" +
		"Received: from [10.0.0.5] (unknown [10.0.0.5]) by mail.example.net with ESMTPSA id def\r\n" +
		"Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=example.net; dkim=pass header.d=example.net\r\n" +
		"From: Newsletter Team <news@example.net>\r\nTo: reader@example.org\r\nSubject: Your weekly digest of offers and news\r\n" +
		"Message-ID: <20261202.123@example.net>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	words := strings.Fields("the quick brown fox jumps over lazy dogs while our team prepares weekly offers " +
		"discounts members special prices limited time visit website unsubscribe preferences privacy policy")
	for i := 0; b.Len() < 2500; i++ {
		b.WriteString(words[i%len(words)])
		b.WriteString(words[(i*7)%len(words)][:3])
		if i%12 == 11 {
			b.WriteString(" https://www.example.net/offer/" + words[i%len(words)] + "\r\n")
		} else {
			b.WriteString(" ")
		}
	}
	b.WriteString("\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>")
	for i := 0; b.Len() < 4096-40; i++ {
		b.WriteString("<b>" + words[(i*3)%len(words)] + "</b> ")
	}
	b.WriteString("</p></body></html>\r\n--b1--\r\n")
	return b.String()
}()

// BenchmarkTokenize4KiB: the classifier's cost per message on the MX path
// before the model is read.
func BenchmarkTokenize4KiB(b *testing.B) {
	msg := []byte(benchMessage)
	b.SetBytes(int64(len(msg)))
	var n int
	for b.Loop() {
		t := NewTokenizer()
		t.Write(msg)
		n = len(t.Tokens())
	}
	b.ReportMetric(float64(n), "tokens")
}

// BenchmarkClassifyStore: reading a 100k-token global model in a store
// for a 4 KiB message, and combining; the user has no model (one read).
func BenchmarkClassifyStore(b *testing.B) {
	n := newNode(b)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	msgTokens := tokensOf(b, benchMessage)
	// Half the message's tokens are known to the model, among 100k others.
	var x uint64 = 1
	for i := 0; i < 100_000; i += 500 {
		toks := make([]uint64, 0, 500+len(msgTokens)/2)
		for range 500 {
			x = x*6364136223846793005 + 1442695040888963407
			toks = append(toks, x)
		}
		toks = append(toks, msgTokens[:len(msgTokens)/2]...)
		if _, err := n.Propose(ctx, encodeEvents(b, TrainEvent("", i%1000 == 0, false, sortedDistinct(toks), now))); err != nil {
			b.Fatal(err)
		}
	}
	c := &Classifier{Model: StoreModel{Store: n.store}}
	for b.Loop() {
		if _, err := c.Classify("reader@example.org", msgTokens); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(msgTokens)), "tokens")
}

func sortedDistinct(t []uint64) []uint64 {
	e := emitter{raw: t}
	return e.result()
}
