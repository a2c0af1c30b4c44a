package spam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/mailheader"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/spam/bayes"
)

// DefaultThreshold is the spam probability above which a message is
// spam when the operator sets none (--spam-threshold).
const DefaultThreshold = 0.9

// DefaultLookupTimeout bounds the DNS sanity look-ups of one message.
const DefaultLookupTimeout = 5 * time.Second

// StatusField is the header field the check writes.
const StatusField = "X-Spam-Status"

// Classifier classifies a message's tokens for a recipient with the
// global model and the recipient's own (*bayes.Classifier has it).
type Classifier interface {
	Classify(user string, tokens []uint64) (bayes.Verdict, error)
}

// Check is the classifier's pipeline check on the MX port (package doc).
// It must run after every check whose verdict it weighs or reflects.
type Check struct {
	Classifier Classifier // required
	// Threshold is the spam probability above which a message is spam;
	// zero: DefaultThreshold.
	Threshold float64
	// Resolver answers the PTR and HELO sanity look-ups; nil or dns.None:
	// none are made.
	Resolver dns.Resolver
	// LookupTimeout bounds them; zero: DefaultLookupTimeout.
	LookupTimeout time.Duration
	Logger        *slog.Logger
}

// Name is the check's name in logs.
func (*Check) Name() string { return "spam" }

func (c *Check) threshold() float64 {
	if c.Threshold > 0 {
		return c.Threshold
	}
	return DefaultThreshold
}

// Start begins classifying one message: nil on submission and for a
// message with no local recipient. The DNS sanity look-ups start here, in
// a goroutine of the run, so that they overlap the message's transfer.
func (c *Check) Start(ctx context.Context, env pipeline.Envelope) (pipeline.Run, error) {
	if env.Submission || len(env.Local) == 0 {
		return nil, nil
	}
	r := &run{c: c, env: env, tok: bayes.NewTokenizer(), dnsDone: make(chan struct{})}
	if _, none := c.Resolver.(dns.None); c.Resolver == nil || none {
		close(r.dnsDone)
		return r, nil
	}
	timeout := c.LookupTimeout
	if timeout <= 0 {
		timeout = DefaultLookupTimeout
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	r.cancel = cancel
	go func() {
		defer close(r.dnsDone)
		r.dnsFeatures = clientFeatures(lctx, c.Resolver, env.RemoteIP, env.Helo)
	}()
	return r, nil
}

type run struct {
	c           *Check
	env         pipeline.Envelope
	tok         *bayes.Tokenizer
	cancel      context.CancelFunc // the look-ups' (nil: none)
	dnsDone     chan struct{}      // closed when dnsFeatures is final
	dnsFeatures []string
}

func (r *run) Write(p []byte) (int, error) { return r.tok.Write(p) }

// Filter removes incoming X-Spam-Status and X-Spam-Flag fields.
func (r *run) Filter(in io.Reader) io.Reader { return StripFields(in, StrippedFields...) }

// Abort stops the look-ups.
func (r *run) Abort() {
	if r.cancel != nil {
		r.cancel()
	}
}

// Finish is FinishAfter with nothing before it.
func (r *run) Finish(ctx context.Context) (pipeline.Outcome, error) {
	return r.FinishAfter(ctx, pipeline.Result{})
}

// FinishAfter classifies the message for each local recipient.
func (r *run) FinishAfter(ctx context.Context, earlier pipeline.Result) (pipeline.Outcome, error) {
	defer r.Abort()
	select {
	case <-r.dnsDone:
	case <-ctx.Done():
		// Out of time: judge without the DNS features. The look-ups
		// follow their context, which ends now.
		r.cancel()
		<-r.dnsDone
	}
	var tests []string
	for _, f := range r.dnsFeatures {
		r.tok.AddFeature(f)
		if t := dnsTests[f]; t != "" {
			tests = append(tests, t)
		}
	}
	for _, f := range factFeatures(earlier.Facts) {
		r.tok.AddFeature(f)
	}
	tokens := r.tok.Tokens()

	type verdict struct {
		field string
		junk  bool
	}
	th := r.c.threshold()
	verdicts := make(map[string]verdict, len(r.env.Local))
	var spamCount int
	var lastScore string
	for _, rcpt := range r.env.Local {
		v, err := r.c.Classifier.Classify(rcpt, tokens)
		if err != nil {
			return pipeline.Outcome{}, fmt.Errorf("spam: classify for %s: %w", rcpt, err)
		}
		spam := v.Probability >= th
		t := append([]string{bayesTest(v.Probability)}, tests...)
		if !spam && (earlier.Action == pipeline.Junk || earlier.Recipients[rcpt].Action == pipeline.Junk) {
			// Junked before us: the field must agree with the mailbox.
			spam = true
			t = append(t, "JUNKED_BEFORE")
		}
		if spam {
			spamCount++
		}
		lastScore = fmt.Sprintf("%.2f", v.Probability*10)
		verdicts[rcpt] = verdict{field: statusField(spam, v.Probability*10, th*10, t), junk: spam}
	}

	var o pipeline.Outcome
	first := verdicts[r.env.Local[0]]
	same := true
	for _, v := range verdicts {
		same = same && v == first
	}
	switch {
	case spamCount == 0:
		o.Note = "spam=no score=" + lastScore
	case spamCount == len(r.env.Local):
		o.Note = "spam=yes score=" + lastScore
	default:
		o.Note = fmt.Sprintf("spam=%d/%d", spamCount, len(r.env.Local))
	}
	if same {
		o.Prepend = []byte(first.field)
		if first.junk {
			o.Action = pipeline.Junk
		}
		return o, nil
	}
	o.Recipients = make(map[string]pipeline.RecipientOutcome, len(verdicts))
	for rcpt, v := range verdicts {
		ro := pipeline.RecipientOutcome{Prepend: []byte(v.field)}
		if v.junk {
			ro.Action = pipeline.Junk
		}
		o.Recipients[rcpt] = ro
	}
	return o, nil
}

// statusField is the X-Spam-Status field, SpamAssassin's form.
func statusField(spam bool, score, required float64, tests []string) string {
	yes := "No"
	if spam {
		yes = "Yes"
	}
	list := "none"
	if len(tests) > 0 {
		list = strings.Join(tests, ",")
	}
	return mailheader.Fold(StatusField, fmt.Sprintf("%s, score=%.2f required=%.2f tests=%s", yes, score, required, list))
}

// bayesTest names the probability's band as SpamAssassin's BAYES_ rules
// do.
func bayesTest(p float64) string {
	for _, b := range []struct {
		below float64
		name  string
	}{{0.01, "BAYES_00"}, {0.05, "BAYES_05"}, {0.2, "BAYES_20"}, {0.4, "BAYES_40"}, {0.6, "BAYES_50"},
		{0.8, "BAYES_60"}, {0.95, "BAYES_80"}, {0.99, "BAYES_95"}, {0.999, "BAYES_99"}} {
		if p < b.below {
			return b.name
		}
	}
	return "BAYES_999"
}

// factFeatures turns the earlier checks' facts into classifier features:
// the authentication results ("auth:spf=pass", "auth:dmarc.from=example.com")
// and the rest as they are ("fact:rspamd=add_header").
func factFeatures(facts []string) []string {
	out := make([]string, 0, len(facts))
	for _, f := range facts {
		k, _, _ := strings.Cut(f, "=")
		switch strings.SplitN(k, ".", 2)[0] {
		case "spf", "dkim", "dmarc", "arc":
			out = append(out, "auth:"+f)
		default:
			out = append(out, "fact:"+f)
		}
	}
	return out
}

// dnsTests are the DNS features worth naming in the field.
var dnsTests = map[string]string{
	"ptr:none":        "RDNS_NONE",
	"ptr:unconfirmed": "RDNS_UNCONFIRMED",
	"helo:unresolved": "HELO_UNRESOLVED",
	"helo:mismatch":   "HELO_MISMATCH",
}

// maxPTRNames bounds the PTR names tried for forward confirmation.
const maxPTRNames = 3

// clientFeatures are the PTR and HELO sanity features of a client
// (FCrDNS: the PTR name resolves back to the address, as RFC 8601 §2.7.3's
// iprev method checks): "ptr:none" (no PTR record), "ptr:confirmed" or
// "ptr:unconfirmed"; "helo:literal" (an address literal, RFC 5321
// §4.1.3), "helo:unresolved", "helo:match" (the name resolves to the
// client's address) or "helo:mismatch". A look-up that fails temporarily
// gives no feature: the absence of a record is evidence, a timeout is not.
func clientFeatures(ctx context.Context, res dns.Resolver, remoteIP, helo string) []string {
	ip, err := netip.ParseAddr(remoteIP)
	if err != nil {
		return nil
	}
	ip = ip.Unmap().WithZone("")
	var out []string
	names, err := res.LookupAddr(ctx, ip.String())
	switch {
	case notFound(err) || (err == nil && len(names) == 0):
		out = append(out, "ptr:none")
	case err == nil:
		confirmed := false
		for _, n := range names[:min(len(names), maxPTRNames)] {
			if resolvesTo(ctx, res, n, ip) {
				confirmed = true
				break
			}
		}
		if confirmed {
			out = append(out, "ptr:confirmed")
		} else if ctx.Err() == nil {
			out = append(out, "ptr:unconfirmed")
		}
	}
	helo = strings.TrimSuffix(strings.TrimSpace(helo), ".")
	switch {
	case helo == "":
	case strings.HasPrefix(helo, "["):
		out = append(out, "helo:literal")
	default:
		addrs, err := res.LookupIPAddr(ctx, helo)
		switch {
		case notFound(err):
			out = append(out, "helo:unresolved")
		case err == nil:
			if slices.ContainsFunc(addrs, func(a net.IPAddr) bool { return sameIP(a.IP, ip) }) {
				out = append(out, "helo:match")
			} else {
				out = append(out, "helo:mismatch")
			}
		}
	}
	return out
}

func resolvesTo(ctx context.Context, res dns.Resolver, name string, ip netip.Addr) bool {
	addrs, err := res.LookupIPAddr(ctx, name)
	return err == nil && slices.ContainsFunc(addrs, func(a net.IPAddr) bool { return sameIP(a.IP, ip) })
}

func sameIP(a net.IP, b netip.Addr) bool {
	x, ok := netip.AddrFromSlice(a)
	return ok && x.Unmap() == b
}

func notFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
