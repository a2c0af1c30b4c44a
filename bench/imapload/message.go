// Package imapload is an IMAP and POP3 load generator for benchmarks: it
// fills mailboxes over IMAP APPEND, times single commands on a large
// mailbox (SELECT, UID FETCH of metadata and of every body, UID SEARCH on a
// header and on body text), times POP3 (login+STAT, UIDL, RETR), runs a
// mixed workload of persistent clients (SELECT, FETCH, STORE, EXPUNGE,
// APPEND) and holds many idle connections (IDLE) while it reads the
// server's memory.
//
// It measures any IMAP/POP3 server the same way (bench/imap-pop3.sh runs it
// against Surat and against Dovecot), talks only to the addresses it is
// given, and never asserts a time: a command that fails is counted as an
// error and the run goes on.
//
// It must not be imported by the server; the IMAP side uses go-imap v2's
// client, POP3 is a small client of its own (pop3.go).
package imapload

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Marker words: message i carries SubjectWord in its Subject when
// i%100 == 7 and BodyWord in its body when i%100 == 42, so a mailbox of
// n messages has n/100 matches for each (100 in 10,000). Neither word is
// in the filler vocabulary.
const (
	SubjectWord = "kumquat"
	BodyWord    = "zeppelin"
)

var vocabulary = strings.Fields(`the of and to in is was that for on are with as
his they be at one have this from or had by hot word but what some we can out
other were all there when up use your how said an each she which do their time
if will way about many then them write would like so these her long make thing
see him two has look more day could go come did number sound no most people my
over know water than call first who may down side been now find any new work
part take get place made live where after back little only round man year came
show every good me give our under name very through just form sentence great
think say help low line differ turn cause much mean before move right boy old
too same tell does set three want air well also play small end put home read
hand port large spell add even land here must big high such follow act why ask
men change went light kind off need house picture try us again animal point
mother world near build self earth father head stand own page should country
found answer school grow study still learn plant cover food sun four between
state keep eye never last let thought city tree cross farm hard start might
story saw far sea draw left late run while press close night real life few
north open seem together next white children begin got walk example ease paper
group always music those both mark often letter until mile river car feet care
second book carry took science eat room friend began idea fish mountain stop
once base hear horse cut sure watch color face wood main enough plain girl
usual young ready above ever red list though feel talk bird soon body dog
family direct pose leave song measure door product black short numeral class
wind question happen complete ship area half rock order fire south problem
piece told knew pass since top whole king space heard best hour better true
during hundred five remember step early hold west ground interest reach fast
verb sing listen six table travel less morning ten simple several vowel toward
war lay against pattern slow center love person money serve appear road map
rain rule govern pull cold notice voice unit power town fine certain fly fall
lead cry dark machine note wait plan figure star box noun field rest correct
able pound done beauty drive stood contain front teach week final gave green
quick develop ocean warm free minute strong special mind behind clear tail
produce fact street inch multiply nothing course stay wheel full force blue
object decide surface deep moon island foot system busy test record boat common
gold possible plane stead dry wonder laugh thousand ago ran check game shape
equate miss brought heat snow tire bring yes distant fill east paint language
among grand ball yet wave drop heart present heavy dance engine position arm`)

// BodySize is the body length of every generated message, headers excluded.
const BodySize = 4096

// baseDate is the Date of message 0; message i is i minutes later.
var baseDate = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

// Message returns message i for user: about 300 bytes of headers and a
// BodySize-byte text/plain body of CRLF lines, the same bytes every time
// for the same (user, i), so both servers get identical mailboxes.
func Message(user string, i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	words := func(n int) string {
		w := make([]string, n)
		for k := range w {
			w[k] = vocabulary[r.IntN(len(vocabulary))]
		}
		return strings.Join(w, " ")
	}
	subject := fmt.Sprintf("Bench message %d: %s", i, words(4))
	if i%100 == 7 {
		subject += " " + SubjectWord
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Return-Path: <sender%d@other.test>\r\n", i%17)
	fmt.Fprintf(&b, "From: \"Sender %d\" <sender%d@other.test>\r\n", i%17, i%17)
	fmt.Fprintf(&b, "To: <%s>\r\n", user)
	fmt.Fprintf(&b, "Subject: %s\r\n", subject)
	fmt.Fprintf(&b, "Date: %s\r\n", baseDate.Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%d.%s@bench.example.test>\r\n", i, strings.ReplaceAll(user, "@", "."))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	start := b.Len()
	marked := i%100 != 42
	for b.Len()-start < BodySize {
		line := words(8 + r.IntN(6))
		if !marked && b.Len()-start > BodySize/2 {
			line += " " + BodyWord
			marked = true
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	out := []byte(b.String())
	// Cut to exactly BodySize body bytes, ending in CRLF.
	out = out[:start+BodySize]
	out[len(out)-2], out[len(out)-1] = '\r', '\n'
	if out[len(out)-3] == '\r' { // the cut fell inside a CRLF: no bare CR
		out[len(out)-3] = ' '
	}
	return out
}

// WriteMaildir writes messages from..from+n-1 of user into the Maildir at
// dir (cur/, no flags) as Dovecot stores an APPENDed message: LF line
// endings (mail_save_crlf = no), its size S= and its CRLF size W= in the
// file name. Dovecot assigns UIDs at its next sync of the directory. The
// caller sets ownership.
func WriteMaildir(dir, user string, from, n int) error {
	return WriteMaildirMessages(dir, user, from, n, Message)
}

// WriteMaildirMessages is WriteMaildir with message i made by gen.
func WriteMaildirMessages(dir, user string, from, n int, gen func(user string, i int) []byte) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	host, _ := os.Hostname()
	host = strings.NewReplacer("/", "_", ":", "_").Replace(host)
	for i := from; i < from+n; i++ {
		crlf := gen(user, i)
		lf := bytes.ReplaceAll(crlf, []byte("\r\n"), []byte("\n"))
		name := fmt.Sprintf("%d.M%dP%d.%s,S=%d,W=%d:2,", baseDate.Unix()+int64(i)*60, i, os.Getpid(), host, len(lf), len(crlf))
		if err := os.WriteFile(filepath.Join(dir, "cur", name), lf, 0o600); err != nil {
			return err
		}
	}
	return nil
}
