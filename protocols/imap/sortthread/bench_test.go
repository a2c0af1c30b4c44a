package sortthread

import (
	"strings"
	"testing"
)

var benchHeader = []byte("From: User 12 <user12@remote.test>\r\nTo: <someone@example.test>\r\n" +
	"Date: Tue, 14 Oct 2025 03:12:45 +0000\r\nMessage-ID: <m9999@remote.test>\r\n" +
	"Subject: Re: topic 399\r\nIn-Reply-To: <m9997@remote.test>\r\n" +
	"References: <m9975@remote.test> <m9979@remote.test> <m9983@remote.test> <m9987@remote.test> <m9991@remote.test> <m9995@remote.test> <m9997@remote.test>\r\n" +
	"Content-Type: text/plain\r\n\r\n")

func BenchmarkSummarize(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Summarize(benchHeader)
	}
}

// BenchmarkBaseSubjectBlobs: a 64 KiB Subject of subj-blobs, the input
// that once cost time quadratic in its length (subject.go's step 4).
func BenchmarkBaseSubjectBlobs(b *testing.B) {
	subject := strings.Repeat("[blob] ", 65536/7)
	for b.Loop() {
		BaseSubject(subject)
	}
}
