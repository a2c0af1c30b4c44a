package spam

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	evlog "github.com/surat-mail/surat/log"
	imapserver "github.com/surat-mail/surat/protocols/imap"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/protocoltest"
	"github.com/surat-mail/surat/protocols/spam/bayes"
)

var (
	spamWords = strings.Fields("viagra cialis pills pharmacy discount cheap casino jackpot lottery winner prize claim bonus free money cash bitcoin")
	hamWords  = strings.Fields("meeting agenda minutes quarterly report project timeline milestone review draft proposal budget spreadsheet colleague")
)

func corpusMessage(rng *rand.Rand, from string, vocab []string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: someone@example.test\r\nSubject: %s %s\r\nMessage-ID: <%d@corpus.test>\r\n\r\n",
		from, vocab[rng.IntN(len(vocab))], vocab[rng.IntN(len(vocab))], n)
	for i := range 40 {
		b.WriteString(vocab[rng.IntN(len(vocab))])
		if i%10 == 9 {
			b.WriteString("\r\n")
		} else {
			b.WriteString(" ")
		}
	}
	return []byte(b.String())
}

// classifyOn runs the check on node n for rcpt, as the MX port would.
func classifyOn(t *testing.T, n *protocoltest.Node, rcpt string, msg []byte) (string, pipeline.Action) {
	t.Helper()
	check := &Check{Classifier: &bayes.Classifier{Model: bayes.StoreModel{Store: n.Store}}}
	runs, err := pipeline.Start(context.Background(), []pipeline.Check{check}, pipeline.Envelope{RemoteIP: "192.0.2.1", Local: []string{rcpt}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, runs.Reader(bytes.NewReader(msg))); err != nil {
		t.Fatal(err)
	}
	res, err := runs.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	prepend, action := res.For(rcpt)
	return string(prepend), action
}

// A user MOVEs a message into Junk over IMAP on one node; a near-identical
// message judged on another node goes to Junk: the training is replicated.
func TestJunkMoveTrainsEveryNode(t *testing.T) {
	c := protocoltest.Start(t, protocoltest.Options{Size: 3})
	a, nodeC := c.Nodes[0], c.Nodes[2]
	rng := rand.New(rand.NewPCG(1, 2))

	// The global model, as surat spam train leaves it.
	var events []*evlog.Event
	for i := range 15 {
		for _, k := range []struct {
			j     Judgement
			from  string
			vocab []string
		}{{Spam, fmt.Sprintf("deals%d@promo.test", i%3), spamWords}, {Ham, fmt.Sprintf("colleague%d@partner.test", i%4), hamWords}} {
			e, err := Event("", k.j, bytes.NewReader(corpusMessage(rng, k.from, k.vocab, len(events))), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
	}
	if _, err := Propose(context.Background(), a.Node, events); err != nil {
		t.Fatal(err)
	}

	bob := c.NewUser(t, "bob", "password")
	madeUp := make([]string, 40)
	for i := range madeUp {
		for range 4 {
			madeUp[i] += string("bdfgklmnprstvz"[rng.IntN(14)]) + string("aeiou"[rng.IntN(5)])
		}
	}
	variant := func(k int) []byte {
		words := append([]string(nil), madeUp...)
		r := []rune(words[k%len(words)])
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		words[k%len(words)] = string(r)
		return []byte("From: stranger@elsewhere.test\r\nTo: " + bob + "\r\nSubject: hello\r\nMessage-ID: <v" +
			fmt.Sprint(k) + "@elsewhere.test>\r\n\r\nDear friend,\r\n" + strings.Join(words, " ") + "\r\nSee you.\r\n")
	}
	a.Deliver(t, bob, variant(0))
	if field, action := classifyOn(t, nodeC, bob, variant(1)); action == pipeline.Junk || !strings.HasPrefix(field, "X-Spam-Status: No") {
		t.Fatalf("before any training of bob's: %q, %v", field, action)
	}

	// MOVE into Junk over IMAP on node A.
	srv, err := imapserver.New(imapserver.Config{Hostname: "imap.example.test", TLS: c.TLS, Store: a.Store, Proposer: a.Node,
		Logger: protocoltest.Logger(), SpamLearner: &Learner{Store: a.Store, Proposer: a.Node, Logger: protocoltest.Logger()}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	cl, err := imapclient.DialStartTLS(ln.Addr().String(), &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Login(bob, "password").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Move(imap.UIDSetNum(1), "Junk").Wait(); err != nil {
		t.Fatal(err)
	}

	// Node C judges the next variant spam, within a few seconds.
	deadline := time.Now().Add(10 * time.Second)
	for k := 2; ; k++ {
		field, action := classifyOn(t, nodeC, bob, variant(k))
		if action == pipeline.Junk && strings.HasPrefix(field, "X-Spam-Status: Yes") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the move, node C still says %q (%v)", field, action)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m, err := nodeC.Store.SpamStatus(bob); err != nil || m.Spam != 1 || m.Ham != 0 {
		t.Fatalf("bob's model on node C: %+v, %v", m, err)
	}
	// Another user's verdict is unchanged: the move trained bob's model.
	carol := c.NewUser(t, "carol", "password")
	if _, action := classifyOn(t, nodeC, carol, variant(9)); action == pipeline.Junk {
		t.Error("bob's move junked carol's copy")
	}

	// Moving it back out of Junk retrains it as ham.
	if _, err := cl.Select("Junk", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Move(imap.UIDSetNum(1), "INBOX").Wait(); err != nil {
		t.Fatal(err)
	}
	c.WaitConverged(t, 10*time.Second)
	if m, err := nodeC.Store.SpamStatus(bob); err != nil || m.Spam != 0 || m.Ham != 1 {
		t.Fatalf("bob's model after moving back: %+v, %v", m, err)
	}
	if _, action := classifyOn(t, nodeC, bob, variant(20)); action == pipeline.Junk {
		t.Error("still junked after moving back out of Junk")
	}
}
