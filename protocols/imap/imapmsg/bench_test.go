package imapmsg

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// typicalHeader is the header block of a list message as it arrives:
// trace fields, DKIM, a folded To.
var typicalHeader = crlf(`Return-Path: <bounce-123@lists.example.org>
Received: from mx.example.org (mx.example.org [192.0.2.10])
	by mail.example.com with ESMTPS id 4AbCdE
	for <alice@example.com>; Thu, 15 Feb 2024 01:02:03 +0000
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel;
	h=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
	b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgaGFzIHRoZSBsZW5ndGggb2Ygb25l
Message-ID: <20240215010203.12345@lists.example.org>
In-Reply-To: <20240214220000.999@mail.example.net>
References: <20240214220000.999@mail.example.net>
Date: Thu, 15 Feb 2024 01:02:03 +0000
From: "Bob Example" <bob@example.org>
To: Alice <alice@example.com>, "Carol, C." <carol@example.net>,
 dave@example.com
Cc: The List <list@lists.example.org>
Subject: =?utf-8?q?Re=3A_caf=C3=A9_meeting?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"
List-Id: <list.lists.example.org>

`)

func BenchmarkParseEnvelope(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalHeader)))
	for b.Loop() {
		ParseEnvelope(typicalHeader)
	}
}

func BenchmarkParse(b *testing.B) {
	msg := append(append([]byte{}, typicalHeader...), crlf("--b1\nContent-Type: text/plain; charset=utf-8\n\n"+
		strings.Repeat("Some text of the message, as people write it.\n", 200)+"--b1\nContent-Type: text/html; charset=utf-8\n\n"+
		strings.Repeat("<p>Some text of the message, as people write it.</p>\n", 200)+"--b1--\n")...)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		Parse(msg)
	}
}

func BenchmarkParseLarge(b *testing.B) {
	// A 20 MiB attachment: parsing finds the parts without copying it.
	msg := crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n" +
		strings.Repeat(strings.Repeat("A", 76)+"\n", 20<<20/77) + "--b--\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		m := Parse(msg)
		m.BodySection(&imap.FetchItemBodySection{Part: []int{2}})
	}
}

func BenchmarkHeaderFields(b *testing.B) {
	bs := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"From", "To", "Cc", "Subject", "Date", "Message-ID", "Priority", "X-Priority", "References", "Newsgroups", "In-Reply-To", "Content-Type", "Reply-To"}}
	b.ReportAllocs()
	for b.Loop() {
		HeaderSection(typicalHeader, bs)
	}
}
