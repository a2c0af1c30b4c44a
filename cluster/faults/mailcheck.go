package faults

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Account is a user the checks log in as.
type Account struct {
	Address, Password string
}

// imapDialTimeout bounds connecting and the STARTTLS handshake.
const imapDialTimeout = 10 * time.Second

// DialIMAP connects to t, upgrades with STARTTLS (the certificate is not
// verified: nodes make self-signed ones) and logs in. The client is closed
// when ctx ends, which fails any command in flight: go-imap's client has
// no command timeout of its own.
func DialIMAP(ctx context.Context, t Target, acct Account) (*imapclient.Client, error) {
	conn, err := t.Connect(ctx, imapDialTimeout)
	if err != nil {
		return nil, fmt.Errorf("imap %w", err)
	}
	// The greeting, STARTTLS and LOGIN get the dial timeout too; the
	// deadline is lifted once logged in.
	_ = conn.SetDeadline(time.Now().Add(imapDialTimeout))
	c, err := imapclient.NewStartTLS(conn, &imapclient.Options{
		TLSConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test nodes, self-signed certificates
	})
	if err != nil {
		return nil, fmt.Errorf("imap STARTTLS %s (%s): %w", t.Node, t.Addr, err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	go func() {
		<-c.Closed()
		stop()
	}()
	if err := c.Login(acct.Address, acct.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("imap login %s at %s: %w", acct.Address, t.Node, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return c, nil
}

// messageIDSection is the FETCH item for a message's Message-ID header.
func messageIDSection() *imap.FetchItemBodySection {
	return &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true}
}

// ReadMailbox lists a mailbox (EXAMINE, so nothing changes): every
// message's UID, Message-ID and flags, in UID order.
func ReadMailbox(ctx context.Context, t Target, acct Account, mailbox string) ([]FinalMessage, error) {
	c, err := DialIMAP(ctx, t, acct)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("examine %s as %s at %s: %w", mailbox, acct.Address, t.Node, err)
	}
	if sel.NumMessages == 0 {
		return nil, nil
	}
	all := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}} // 1:*
	section := messageIDSection()
	msgs, err := c.Fetch(all, &imap.FetchOptions{
		UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetch %s as %s at %s: %w", mailbox, acct.Address, t.Node, err)
	}
	out := make([]FinalMessage, 0, len(msgs))
	for _, m := range msgs {
		// \Recent is left out: it is a session's flag (RFC 3501 §2.3.2),
		// claimed per node in Surat, so nodes rightly differ on it.
		flags := make([]string, 0, len(m.Flags))
		for _, f := range m.Flags {
			if !strings.EqualFold(string(f), `\Recent`) {
				flags = append(flags, string(f))
			}
		}
		out = append(out, FinalMessage{
			UID:       uint32(m.UID),
			MessageID: headerValue(m.FindBodySection(section), "Message-ID"),
			Flags:     flags,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	_ = c.Logout().Wait()
	return out, nil
}

// headerValue returns the value of a header field in a header block
// (unfolded, trimmed), or "".
func headerValue(block []byte, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(block))
	var value string
	in := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case in && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")):
			value += " " + strings.TrimSpace(line)
		case in:
			return strings.TrimSpace(value)
		default:
			k, v, ok := strings.Cut(line, ":")
			if ok && strings.EqualFold(strings.TrimSpace(k), name) {
				value, in = v, true
			}
		}
	}
	return strings.TrimSpace(value)
}

// MailReport is what CheckMail found.
type MailReport struct {
	Nodes    int
	Messages int // messages in the checked INBOXes (on each node)
	// Present counts messages that exist although not acknowledged, by
	// outcome (allowed for TempFailed and Unknown).
	Present map[Outcome]int
	// Problems are violations: each one is a bug.
	Problems []string
}

// CheckMail reads every account's INBOX on every target and compares the
// nodes with each other and with the ledger (see CompareMail). The targets
// must have applied the same log (see Cluster.WaitConverged). The error is
// for failures to read; violations are in the report.
func CheckMail(ctx context.Context, targets []Target, accounts []Account, ledger *Ledger) (MailReport, error) {
	nodes := make([]string, len(targets))
	for i, t := range targets {
		nodes[i] = t.Node
	}
	inboxes := map[string][][]FinalMessage{}
	for _, a := range accounts {
		for _, t := range targets {
			msgs, err := ReadMailbox(ctx, t, a, "INBOX")
			if err != nil {
				return MailReport{}, fmt.Errorf("%s: %w", t.Node, err)
			}
			inboxes[a.Address] = append(inboxes[a.Address], msgs)
		}
	}
	return CompareMail(nodes, inboxes, ledger), nil
}

// CompareMail checks INBOXes against each other and the ledger.
// inboxes[user][i] is user's INBOX as read on nodes[i]; every user
// checked must have one for every node. An acknowledged message must be
// present exactly once for each recipient, with the same UID on every
// node; a message refused before the end of DATA (or with a 5xx) absent;
// one with a 4xx or unknown outcome at most once; a message with several
// recipients delivered to all or none (one delivery event); nothing that
// was never sent.
func CompareMail(nodes []string, inboxes map[string][][]FinalMessage, ledger *Ledger) MailReport {
	rep := MailReport{Nodes: len(nodes), Present: map[Outcome]int{}}
	problem := func(format string, args ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...)) }
	users := make([]string, 0, len(inboxes))
	for u := range inboxes {
		users = append(users, u)
	}
	sort.Strings(users)
	// found[user][node] maps Message-ID to the UIDs carrying it.
	found := map[string][]map[string][]uint32{}
	for _, u := range users {
		if len(inboxes[u]) != len(nodes) {
			problem("%s: INBOX read on %d nodes, want %d", u, len(inboxes[u]), len(nodes))
			continue
		}
		for i, msgs := range inboxes[u] {
			byID := map[string][]uint32{}
			for _, m := range msgs {
				if m.MessageID == "" {
					problem("%s: %s INBOX UID %d has no Message-ID", nodes[i], u, m.UID)
					continue
				}
				byID[m.MessageID] = append(byID[m.MessageID], m.UID)
			}
			found[u] = append(found[u], byID)
		}
		rep.Messages += len(inboxes[u][0])
	}
	// The nodes agree with each other, and hold only what was sent.
	for _, u := range users {
		perNode := found[u]
		if len(perNode) == 0 {
			continue
		}
		ids := map[string]bool{}
		for _, byID := range perNode {
			for id := range byID {
				ids[id] = true
			}
		}
		for _, id := range sortedKeys(ids) {
			for i := 1; i < len(perNode); i++ {
				if !slices.Equal(perNode[0][id], perNode[i][id]) {
					problem("%s %s: UIDs differ between nodes: %s has %v, %s has %v",
						u, id, nodes[0], perNode[0][id], nodes[i], perNode[i][id])
				}
			}
			m, ok := ledger.Lookup(id)
			if !ok {
				problem("%s %s: present (UIDs %v on %s) but never sent", u, id, perNode[0][id], nodes[0])
			} else if !slices.Contains(m.Rcpts, u) {
				problem("%s %s: present but sent only to %v", u, id, m.Rcpts)
			}
		}
	}
	// Every attempt has the presence its outcome allows.
	for _, m := range ledger.Messages() {
		presentFor, considered := 0, 0
		for _, r := range m.Rcpts {
			perNode := found[r]
			if len(perNode) == 0 {
				continue // not a checked user
			}
			considered++
			for i, byID := range perNode {
				n := len(byID[m.MessageID])
				switch {
				case m.Outcome == Acked && n != 1:
					problem("%s: acknowledged (250 via %s) but present %d times in %s's INBOX on %s", m.MessageID, m.Node, n, r, nodes[i])
				case (m.Outcome == Refused || m.Outcome == PermFailed) && n != 0:
					problem("%s: %s at %s (%s via %s) but present %d times in %s's INBOX on %s", m.MessageID, m.Outcome, m.Stage, m.Reply, m.Node, n, r, nodes[i])
				case n > 1:
					problem("%s: %s but present %d times in %s's INBOX on %s", m.MessageID, m.Outcome, n, r, nodes[i])
				}
			}
			if len(perNode[0][m.MessageID]) > 0 {
				presentFor++
			}
		}
		if presentFor > 0 && presentFor < considered {
			problem("%s (%s via %s): delivered to %d of its %d recipients %v", m.MessageID, m.Outcome, m.Node, presentFor, considered, m.Rcpts)
		}
		if presentFor > 0 && m.Outcome != Acked {
			rep.Present[m.Outcome]++
		}
	}
	return rep
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
