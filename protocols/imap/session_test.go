package imap

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// rawConn is a byte-exact IMAP client.
type rawConn struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t testing.TB, addr string, implicitTLS bool) *rawConn {
	t.Helper()
	conn := protocoltest.Dial(t, addr, implicitTLS)
	c := &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
	if g := c.line(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting %q", g)
	}
	return c
}

// line reads one line ("" on error or timeout).
func (c *rawConn) line() string {
	l, _ := c.readLine()
	return l
}

// readLine reads one line, waiting at most 15 s for it.
func (c *rawConn) readLine() (string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(l, "\r\n"), nil
}

// cmd sends "tag line" and returns the lines up to the tagged reply (or a
// continuation request); the last line is the reply, "" if the server hung up.
func (c *rawConn) cmd(tag, line string) []string {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.conn, "%s %s\r\n", tag, line); err != nil {
		return []string{""}
	}
	var out []string
	for {
		l := c.line()
		out = append(out, l)
		if l == "" || strings.HasPrefix(l, tag+" ") || strings.HasPrefix(l, "+") {
			return out
		}
	}
}

func (c *rawConn) starttls() {
	c.t.Helper()
	if r := c.cmd("s1", "STARTTLS"); !strings.HasPrefix(r[len(r)-1], "s1 OK") {
		c.t.Fatalf("STARTTLS: %v", r)
	}
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
}

func last(lines []string) string { return lines[len(lines)-1] }

func TestLoginNeedsTLS(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "tls", password)
	_, plain, implicit := c.serve(t, c.Nodes[0], nil)

	raw := dialRaw(t, plain, false)
	caps := strings.Join(raw.cmd("a1", "CAPABILITY"), " ")
	for _, want := range []string{"STARTTLS", "LOGINDISABLED", "IMAP4rev2", "IMAP4rev1"} {
		if !strings.Contains(caps, want) {
			t.Errorf("CAPABILITY before TLS lacks %s: %s", want, caps)
		}
	}
	if strings.Contains(caps, "AUTH=PLAIN") {
		t.Errorf("AUTH=PLAIN offered before TLS: %s", caps)
	}
	if r := last(raw.cmd("a2", "LOGIN "+user+" \""+password+"\"")); !strings.HasPrefix(r, "a2 NO") {
		t.Fatalf("LOGIN before TLS: %q", r)
	}
	if r := last(raw.cmd("a3", "AUTHENTICATE PLAIN")); !strings.HasPrefix(r, "a3 NO") {
		t.Fatalf("AUTHENTICATE before TLS: %q", r)
	}
	raw.starttls()
	if r := last(raw.cmd("a4", "LOGIN "+user+" \""+password+"\"")); !strings.HasPrefix(r, "a4 OK") {
		t.Fatalf("LOGIN after STARTTLS: %q", r)
	}

	// Implicit TLS (RFC 8314): no STARTTLS offered, LOGIN at once.
	tc := dialRaw(t, implicit, true)
	caps = strings.Join(tc.cmd("b1", "CAPABILITY"), " ")
	if strings.Contains(caps, "STARTTLS") || strings.Contains(caps, "LOGINDISABLED") || !strings.Contains(caps, "AUTH=PLAIN") {
		t.Errorf("implicit TLS CAPABILITY: %s", caps)
	}
	// AUTHENTICATE PLAIN with an initial response (SASL-IR, RFC 4959).
	ir := "AHVzZXIAcGFzcw==" // "\0user\0pass": wrong
	if r := last(tc.cmd("b2", "AUTHENTICATE PLAIN "+ir)); !strings.HasPrefix(r, "b2 NO [AUTHENTICATIONFAILED]") {
		t.Fatalf("wrong AUTHENTICATE: %q", r)
	}
	cl, err := imapclient.DialTLS(implicit, &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Authenticate(sasl.NewPlainClient("", user, password)); err != nil {
		t.Fatalf("AUTHENTICATE PLAIN: %v", err)
	}
	if err := cl.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestCapabilitiesAfterLogin(t *testing.T) {
	c, addr := sharedServer(t)
	cl, _ := dial(t, addr, c.NewUser(t, "caps", password))
	caps, err := cl.Capability().Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []imap.Cap{imap.CapIMAP4rev2, imap.CapIMAP4rev1, imap.CapIdle, imap.CapUIDPlus, imap.CapMove,
		imap.CapSpecialUse, imap.CapCreateSpecialUse, imap.CapNamespace, imap.CapEnable, imap.CapUnselect,
		imap.CapLiteralPlus, imap.CapListExtended, imap.CapListStatus, imap.CapStatusSize, imap.CapChildren,
		imap.CapESearch, imap.CapSearchRes, imap.CapCondStore, imap.CapQResync, "NOTIFY", "APPENDLIMIT=26214400"} {
		if !caps.Has(want) {
			t.Errorf("capability %s not advertised", want)
		}
	}
	// ENABLE IMAP4rev2 (RFC 5161).
	if _, err := cl.Enable(imap.CapIMAP4rev2).Wait(); err != nil {
		t.Fatal(err)
	}
	ns, err := cl.Namespace().Wait()
	if err != nil || len(ns.Personal) != 1 || ns.Personal[0].Delim != '/' {
		t.Fatalf("NAMESPACE: %+v %v", ns, err)
	}
}

func TestWrongPasswordAndRateLimit(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "brute", password)
	_, addr, _ := c.serve(t, c.Nodes[0], nil)
	var lastErr error
	for i := range 6 {
		cl, _ := dial(t, addr, "")
		lastErr = cl.Login(user, fmt.Sprintf("wrong-%d", i)).Wait()
		if imapCode(lastErr) != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("attempt %d: %v", i, lastErr)
		}
		cl.Close()
	}
	if !strings.Contains(lastErr.Error(), "slowed down") {
		t.Errorf("no rate-limit hint after 6 failures: %v", lastErr)
	}
	start := time.Now()
	dial(t, addr, user) // the right password still works, after a wait
	t.Logf("right password accepted after %v", time.Since(start))
}

func TestMailboxCommands(t *testing.T) {
	c, addr := sharedServer(t)
	cl, _ := dial(t, addr, c.NewUser(t, "mbx", password))

	boxes, err := cl.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	special := map[string]imap.MailboxAttr{"Sent": imap.MailboxAttrSent, "Drafts": imap.MailboxAttrDrafts,
		"Trash": imap.MailboxAttrTrash, "Junk": imap.MailboxAttrJunk, "Archive": imap.MailboxAttrArchive}
	found := map[string]bool{}
	for _, b := range boxes {
		found[b.Mailbox] = true
		if want, ok := special[b.Mailbox]; ok && !hasAttr(b.Attrs, want) {
			t.Errorf("%s lacks %s: %v", b.Mailbox, want, b.Attrs)
		}
	}
	if !found["INBOX"] || len(found) != 6 {
		t.Fatalf("LIST: %v", found)
	}

	if err := cl.Create("Projects/2026", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Create("Projects", nil).Wait(); imapCode(err) != imap.ResponseCodeAlreadyExists {
		t.Fatalf("CREATE existing: %v", err)
	}
	if err := cl.Create("Later", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrFlagged}}).Wait(); err != nil {
		t.Fatalf("CREATE-SPECIAL-USE: %v", err)
	}
	list := listMap(t, cl, "", "Projects*", nil)
	if !hasAttr(list["Projects"], imap.MailboxAttrHasChildren) || !hasAttr(list["Projects/2026"], imap.MailboxAttrHasNoChildren) {
		t.Fatalf("CHILDREN: %v", list)
	}
	// % stops at the delimiter (RFC 9051 §6.3.9).
	if l := listMap(t, cl, "", "%", nil); l["Projects/2026"] != nil || l["Projects"] == nil {
		t.Fatalf("LIST %%: %v", l)
	}
	// LIST (SPECIAL-USE) selects only special-use mailboxes (RFC 6154).
	if l := listMap(t, cl, "", "*", &imap.ListOptions{SelectSpecialUse: true}); len(l) != 6 || !hasAttr(l["Later"], imap.MailboxAttrFlagged) {
		t.Fatalf("LIST (SPECIAL-USE): %v", l)
	}

	// LIST-STATUS (RFC 5819) and STATUS=SIZE (RFC 8438).
	appendMsg(t, cl, "Projects", msg("status one", "x"))
	ld, err := cl.List("", "Projects", &imap.ListOptions{ReturnStatus: &imap.StatusOptions{NumMessages: true, Size: true, UIDNext: true}}).Collect()
	if err != nil || len(ld) != 1 || ld[0].Status == nil || *ld[0].Status.NumMessages != 1 || *ld[0].Status.Size == 0 || ld[0].Status.UIDNext != 2 {
		t.Fatalf("LIST RETURN (STATUS): %+v %v", ld, err)
	}
	st, err := cl.Status("Projects", &imap.StatusOptions{NumMessages: true, NumUnseen: true, Size: true, UIDValidity: true, NumDeleted: true}).Wait()
	if err != nil || *st.NumMessages != 1 || *st.NumUnseen != 1 || *st.NumDeleted != 0 || st.UIDValidity == 0 {
		t.Fatalf("STATUS: %+v %v", st, err)
	}

	// RENAME keeps UIDVALIDITY; children follow.
	if err := cl.Rename("Projects", "Work", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	st2, err := cl.Status("Work", &imap.StatusOptions{UIDValidity: true, NumMessages: true}).Wait()
	if err != nil || st2.UIDValidity != st.UIDValidity || *st2.NumMessages != 1 {
		t.Fatalf("STATUS after RENAME: %+v %v", st2, err)
	}
	if l := listMap(t, cl, "", "*", nil); l["Work/2026"] == nil || l["Projects"] != nil {
		t.Fatalf("after RENAME: %v", l)
	}
	if _, err := cl.Status("Projects", &imap.StatusOptions{NumMessages: true}).Wait(); imapCode(err) != imap.ResponseCodeNonExistent {
		t.Fatalf("STATUS of a renamed name: %v", err)
	}

	// SUBSCRIBE, LSUB-style LIST (SUBSCRIBED).
	if err := cl.Subscribe("Work").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Subscribe("Gone/Below").Wait(); err != nil {
		t.Fatal(err)
	}
	subs := listMap(t, cl, "", "*", &imap.ListOptions{SelectSubscribed: true})
	if !hasAttr(subs["Work"], imap.MailboxAttrSubscribed) || !hasAttr(subs["Gone/Below"], imap.MailboxAttrNonExistent) {
		t.Fatalf("LIST (SUBSCRIBED): %v", subs)
	}
	if err := cl.Unsubscribe("Work").Wait(); err != nil {
		t.Fatal(err)
	}
	if subs := listMap(t, cl, "", "*", &imap.ListOptions{SelectSubscribed: true}); subs["Work"] != nil {
		t.Fatalf("after UNSUBSCRIBE: %v", subs)
	}

	// DELETE: INBOX refused, others gone; a deleted parent shows \Noselect.
	if err := cl.Delete("INBOX").Wait(); err == nil {
		t.Fatal("DELETE INBOX succeeded")
	}
	if err := cl.Delete("Work").Wait(); err != nil {
		t.Fatal(err)
	}
	if l := listMap(t, cl, "", "*", nil); !hasAttr(l["Work"], imap.MailboxAttrNoSelect) || l["Work/2026"] == nil {
		t.Fatalf("after DELETE of a parent: %v", l)
	}
	if err := cl.Delete("Nope").Wait(); imapCode(err) != imap.ResponseCodeNonExistent {
		t.Fatalf("DELETE missing: %v", err)
	}
	if _, err := cl.Select("Nope", nil).Wait(); imapCode(err) != imap.ResponseCodeNonExistent {
		t.Fatalf("SELECT missing: %v", err)
	}
}

func listMap(t testing.TB, cl *imapclient.Client, ref, pattern string, opts *imap.ListOptions) map[string][]imap.MailboxAttr {
	t.Helper()
	l, err := cl.List(ref, pattern, opts).Collect()
	if err != nil {
		t.Fatalf("LIST %q %q: %v", ref, pattern, err)
	}
	out := map[string][]imap.MailboxAttr{}
	for _, d := range l {
		out[d.Mailbox] = append(d.Attrs, "") // non-nil even without attributes
	}
	return out
}

func hasAttr(attrs []imap.MailboxAttr, a imap.MailboxAttr) bool {
	for _, x := range attrs {
		if strings.EqualFold(string(x), string(a)) {
			return true
		}
	}
	return false
}

func TestAppendFetch(t *testing.T) {
	c, addr := sharedServer(t)
	cl, _ := dial(t, addr, c.NewUser(t, "fetch", password))
	multipart := "From: <a@remote.test>\r\nTo: <b@example.test>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n" +
		"Date: Tue, 03 Jan 2006 10:00:00 +0100\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n" +
		"--XX\r\nContent-Type: text/html\r\n\r\n<p>second</p>\r\n--XX--\r\n"
	when := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("", 3600))
	cmd := cl.Append("INBOX", int64(len(multipart)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagDraft, "$Label"}, Time: when})
	cmd.Write([]byte(multipart))
	cmd.Close()
	ad, err := cmd.Wait()
	if err != nil || ad.UID != 1 || ad.UIDValidity == 0 {
		t.Fatalf("APPENDUID: %+v %v", ad, err)
	}
	sel := mustSelect(t, cl, "INBOX")
	if sel.NumMessages != 1 || sel.UIDValidity != ad.UIDValidity || sel.UIDNext != 2 {
		t.Fatalf("SELECT: %+v", sel)
	}
	msgs := fetchAll(t, cl, imap.SeqSetNum(1), &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true, Envelope: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection: []*imap.FetchItemBodySection{
			{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject"}, Peek: true},
			{Part: []int{2}, Peek: true},
			{Peek: true, Partial: &imap.SectionPartial{Offset: 6, Size: 4}},
		},
	})
	if len(msgs) != 1 {
		t.Fatalf("FETCH: %d messages", len(msgs))
	}
	m := msgs[0]
	if m.UID != 1 || m.RFC822Size != int64(len(multipart)) || !m.InternalDate.Equal(when) {
		t.Errorf("UID/size/date: %d %d %v", m.UID, m.RFC822Size, m.InternalDate)
	}
	if !hasFlagList(m.Flags, imap.FlagDraft) || !hasFlagList(m.Flags, "$Label") || hasFlagList(m.Flags, imap.FlagSeen) {
		t.Errorf("flags: %v", m.Flags)
	}
	if m.Envelope == nil || m.Envelope.Subject != "café" || len(m.Envelope.From) != 1 || m.Envelope.From[0].Host != "remote.test" {
		t.Errorf("envelope: %+v", m.Envelope)
	}
	mp, ok := m.BodyStructure.(*imap.BodyStructureMultiPart)
	if !ok || mp.Subtype != "mixed" || len(mp.Children) != 2 {
		t.Errorf("bodystructure: %#v", m.BodyStructure)
	}
	if got := string(m.BodySection[0].Bytes); !strings.HasPrefix(got, "Subject: ") || strings.Contains(got, "From") {
		t.Errorf("HEADER.FIELDS: %q", got)
	}
	if got := string(m.BodySection[1].Bytes); got != "<p>second</p>" {
		t.Errorf("BODY[2]: %q", got)
	}
	if got := string(m.BodySection[2].Bytes); got != multipart[6:10] {
		t.Errorf("BODY[]<6.4>: %q", got)
	}
	// BODY[] (not PEEK) sets \Seen and reports it (RFC 9051 §6.4.5).
	msgs = fetchAll(t, cl, imap.UIDSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}})
	if string(msgs[0].BodySection[0].Bytes) != multipart || !hasFlagList(msgs[0].Flags, imap.FlagSeen) {
		t.Fatalf("BODY[]: flags %v, %d bytes", msgs[0].Flags, len(msgs[0].BodySection[0].Bytes))
	}
	// EXAMINE is read-only: no \Seen change, STORE refused.
	appendMsg(t, cl, "INBOX", msg("unread", "body"))
	if _, err := cl.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs = fetchAll(t, cl, imap.SeqSetNum(2), &imap.FetchOptions{Flags: true, BodySection: []*imap.FetchItemBodySection{{}}})
	if hasFlagList(msgs[0].Flags, imap.FlagSeen) {
		t.Fatal("EXAMINE + BODY[] set \\Seen")
	}
	if _, err := cl.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Collect(); err == nil {
		t.Fatal("STORE in EXAMINE succeeded")
	}

	// A large body goes as several chunks and comes back whole.
	big := []byte(strings.Repeat("0123456789abcdef", (3*evlog.ChunkSize)/16+7))
	big = append(msg("big", "")[:0:0], append(msg("big", ""), big...)...)
	ad = appendMsg(t, cl, "INBOX", big)
	mustSelect(t, cl, "INBOX")
	msgs = fetchAll(t, cl, imap.UIDSetNum(ad.UID), &imap.FetchOptions{RFC822Size: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	if len(msgs) != 1 || string(msgs[0].BodySection[0].Bytes) != string(big) {
		t.Fatalf("large body: %d messages", len(msgs))
	}
	// APPEND to a missing mailbox: [TRYCREATE].
	cmd = cl.Append("Nope", 5, nil)
	cmd.Write([]byte("x\r\n\r\n"))
	cmd.Close()
	if _, err := cmd.Wait(); imapCode(err) != imap.ResponseCodeTryCreate {
		t.Fatalf("APPEND to missing: %v", err)
	}
}

func TestStoreExpunge(t *testing.T) {
	c, addr := sharedServer(t)
	cl, _ := dial(t, addr, c.NewUser(t, "store", password))
	for i := range 5 {
		appendMsg(t, cl, "INBOX", msg(fmt.Sprintf("m%d", i), "x"))
	}
	mustSelect(t, cl, "INBOX")
	tests := []struct {
		name string
		set  imap.NumSet
		op   imap.StoreFlagsOp
		f    []imap.Flag
		want map[uint32][]imap.Flag // UID -> flags after
	}{
		{"add", imap.SeqSet{{Start: 1, Stop: 3}}, imap.StoreFlagsAdd, []imap.Flag{imap.FlagFlagged, "$Work"},
			map[uint32][]imap.Flag{1: {"$Work", imap.FlagFlagged}, 3: {"$Work", imap.FlagFlagged}, 4: {}}},
		{"remove", imap.UIDSetNum(2), imap.StoreFlagsDel, []imap.Flag{"$work"},
			map[uint32][]imap.Flag{2: {imap.FlagFlagged}}},
		{"replace", imap.SeqSet{{Start: 4, Stop: 0}}, imap.StoreFlagsSet, []imap.Flag{imap.FlagDeleted},
			map[uint32][]imap.Flag{4: {imap.FlagDeleted}, 5: {imap.FlagDeleted}, 1: {"$Work", imap.FlagFlagged}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := cl.Store(tt.set, &imap.StoreFlags{Op: tt.op, Flags: tt.f}, nil).Collect()
			if err != nil || len(res) == 0 {
				t.Fatalf("STORE: %d responses, %v", len(res), err)
			}
			got := fetchAll(t, cl, imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true})
			for _, m := range got {
				want, ok := tt.want[uint32(m.UID)]
				if !ok {
					continue
				}
				// \Recent (IMAP4rev1: this session claimed the messages) is not STORE's.
				flags := slices.DeleteFunc(m.Flags, func(f imap.Flag) bool { return f == `\Recent` })
				if fmt.Sprint(flags) != fmt.Sprint(want) && !(len(want) == 0 && len(flags) == 0) {
					t.Errorf("UID %d flags %v, want %v", m.UID, flags, want)
				}
			}
		})
	}
	// .SILENT: no FETCH in the reply.
	res, err := cl.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Collect()
	if err != nil || len(res) != 0 {
		t.Fatalf("STORE.SILENT: %d responses, %v", len(res), err)
	}
	// UID EXPUNGE (RFC 4315) of a subset, then EXPUNGE of the rest.
	exp, err := cl.UIDExpunge(imap.UIDSetNum(5)).Collect()
	if err != nil || len(exp) != 1 || exp[0] != 5 {
		t.Fatalf("UID EXPUNGE: %v %v", exp, err)
	}
	cl.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Collect()
	exp, err = cl.Expunge().Collect()
	if err != nil || fmt.Sprint(exp) != "[4 1]" {
		t.Fatalf("EXPUNGE: %v %v", exp, err)
	}
	got := fetchAll(t, cl, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true})
	if len(got) != 2 || got[0].UID != 2 || got[1].UID != 3 {
		t.Fatalf("left: %+v", got)
	}
}

func TestCopyMove(t *testing.T) {
	c, addr := sharedServer(t)
	cl, _ := dial(t, addr, c.NewUser(t, "copy", password))
	for i := range 3 {
		appendMsg(t, cl, "INBOX", msg(fmt.Sprintf("c%d", i), "x"), imap.FlagFlagged)
	}
	mustSelect(t, cl, "INBOX")
	cd, err := cl.Copy(imap.SeqSet{{Start: 1, Stop: 2}}, "Archive").Wait()
	if err != nil || cd.SourceUIDs.String() != "1:2" || cd.DestUIDs.String() != "1:2" || cd.UIDValidity == 0 {
		t.Fatalf("COPYUID: %+v %v", cd, err)
	}
	if _, err := cl.Copy(imap.SeqSetNum(1), "Nope").Wait(); imapCode(err) != imap.ResponseCodeTryCreate {
		t.Fatalf("COPY to missing: %v", err)
	}
	md, err := cl.Move(imap.UIDSetNum(2, 3), "Trash").Wait()
	if err != nil || md.SourceUIDs.String() != "2:3" || md.DestUIDs.String() != "1:2" {
		t.Fatalf("MOVE: %+v %v", md, err)
	}
	if cl.Mailbox().NumMessages != 1 {
		t.Fatalf("after MOVE the client counts %d", cl.Mailbox().NumMessages)
	}
	st, _ := cl.Status("Trash", &imap.StatusOptions{NumMessages: true}).Wait()
	if *st.NumMessages != 2 {
		t.Fatalf("Trash has %d", *st.NumMessages)
	}
	mustSelect(t, cl, "Archive")
	got := fetchAll(t, cl, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true})
	if len(got) != 2 || !hasFlagList(got[0].Flags, imap.FlagFlagged) {
		t.Fatalf("copies keep flags: %+v", got)
	}
}

func TestQuota(t *testing.T) {
	c, addr := sharedServer(t)
	user := c.NewUser(t, "quota", password)
	fits := msg("fits", "x")
	c.Submit(t, &evlog.Event{Kind: &evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: user, Bytes: uint64(2*len(fits) + 10)}}})
	cl, _ := dial(t, addr, user)
	appendMsg(t, cl, "INBOX", fits)
	body := msg("too big", strings.Repeat("y", 300))
	cmd := cl.Append("INBOX", int64(len(body)), nil)
	cmd.Write(body)
	cmd.Close()
	if _, err := cmd.Wait(); imapCode(err) != imap.ResponseCodeOverQuota {
		t.Fatalf("APPEND over quota: %v", err)
	}
	mustSelect(t, cl, "INBOX")
	if _, err := cl.Copy(imap.SeqSetNum(1), "Archive").Wait(); err != nil {
		t.Fatalf("COPY within quota: %v", err)
	}
	if _, err := cl.Copy(imap.SeqSetNum(1), "Archive").Wait(); imapCode(err) != imap.ResponseCodeOverQuota {
		t.Fatalf("COPY over quota: %v", err)
	}
}

func TestSearch(t *testing.T) {
	c, addr := sharedServer(t)
	cl, _ := dial(t, addr, c.NewUser(t, "search", password))
	appendMsg(t, cl, "INBOX", msg("alpha report", "the quick brown fox"), imap.FlagSeen)
	appendMsg(t, cl, "INBOX", msg("beta", "lazy dog "+strings.Repeat("z", 2000)), imap.FlagFlagged)
	appendMsg(t, cl, "INBOX", []byte("From: <x@other.test>\r\nSubject: gamma\r\nDate: Sun, 01 Jan 2023 00:00:00 +0000\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\naGlkZGVuIHRyZWFzdXJl\r\n"), "$Work")
	mustSelect(t, cl, "INBOX")
	day := time.Now().UTC().Truncate(24 * time.Hour)
	tests := []struct {
		name string
		c    imap.SearchCriteria
		want string
	}{
		{"all", imap.SearchCriteria{}, "1:3"},
		{"seen", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, "1"},
		{"unseen", imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, "2:3"},
		{"keyword", imap.SearchCriteria{Flag: []imap.Flag{"$work"}}, "3"},
		{"subject", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "REPORT"}}}, "1"},
		{"from", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "other.test"}}}, "3"},
		{"body", imap.SearchCriteria{Body: []string{"Brown"}}, "1"},
		{"body base64", imap.SearchCriteria{Body: []string{"treasure"}}, "3"},
		{"text header", imap.SearchCriteria{Text: []string{"gamma"}}, "3"},
		{"larger", imap.SearchCriteria{Larger: 1000}, "2"},
		{"smaller", imap.SearchCriteria{Smaller: 1000}, "1,3"},
		{"since today", imap.SearchCriteria{Since: day}, "1:3"},
		{"before today", imap.SearchCriteria{Before: day}, ""},
		{"sentsince", imap.SearchCriteria{SentSince: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, "3"},
		{"sentbefore", imap.SearchCriteria{SentBefore: time.Date(2006, 1, 3, 0, 0, 0, 0, time.UTC)}, "1:2"},
		{"uid", imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(2, 3)}}, "2:3"},
		{"seq", imap.SearchCriteria{SeqNum: []imap.SeqSet{{{Start: 2, Stop: 0}}}}, "2:3"},
		{"not", imap.SearchCriteria{Not: []imap.SearchCriteria{{Flag: []imap.Flag{imap.FlagFlagged}}}}, "1,3"},
		{"or", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Flag: []imap.Flag{imap.FlagSeen}}, {Flag: []imap.Flag{"$Work"}}}}}, "1,3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := cl.Search(&tt.c, nil).Wait()
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if d.All != nil {
				got = d.All.String()
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	// ESEARCH (RFC 4731) result options, UID SEARCH.
	d, err := cl.UIDSearch(&imap.SearchCriteria{}, &imap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true}).Wait()
	if err != nil || d.Min != 1 || d.Max != 3 || d.Count != 3 {
		t.Fatalf("ESEARCH: %+v %v", d, err)
	}
}

func TestBadInput(t *testing.T) {
	c, addr := sharedServer(t)
	user := c.NewUser(t, "bad", password)
	raw := dialRaw(t, addr, false)
	raw.starttls()
	// A literal go-imap will not buffer: refused (or the connection is
	// closed) within the stall timeout, nothing read (RFC 7888 §4).
	start := time.Now()
	r := last(raw.cmd("g1", "LOGIN {999999999}"))
	if strings.HasPrefix(r, "+") || (r != "" && !strings.HasPrefix(r, "g1 BAD") && !strings.HasPrefix(r, "g1 NO")) {
		t.Fatalf("huge literal: %q", r)
	}
	if time.Since(start) > 8*time.Second {
		t.Fatalf("huge literal answered after %v", time.Since(start))
	}

	raw = dialRaw(t, addr, false)
	raw.starttls()
	if r := last(raw.cmd("a1", "LOGIN "+user+" \""+password+"\"")); !strings.HasPrefix(r, "a1 OK") {
		t.Fatal(r)
	}
	raw.cmd("a2", "SELECT INBOX")
	for _, tt := range []struct{ name, line string }{
		{"nested", "FETCH 1 " + strings.Repeat("(", 2000) + "FLAGS" + strings.Repeat(")", 2000)},
		{"nested search", "SEARCH " + strings.Repeat("(", 3000) + "ALL" + strings.Repeat(")", 3000)},
		{"unknown", "XYZZY"},
		{"bad set", "FETCH 0:-1 FLAGS"},
		{"long line", "NOOP " + strings.Repeat("a", 60<<10)},
		{"nul", "SELECT \x00"},
	} {
		r := last(raw.cmd("b1", tt.line))
		if tt.name == "long line" {
			if r != "" && !strings.HasPrefix(r, "b1 BAD") {
				t.Errorf("%s: %q", tt.name, r)
			}
			break // go-imap closes after an oversized command
		}
		if !strings.HasPrefix(r, "b1 BAD") && !strings.HasPrefix(r, "b1 NO") {
			t.Errorf("%s: %q", tt.name, r)
		}
		if r := last(raw.cmd("n1", "NOOP")); !strings.HasPrefix(r, "n1 OK") {
			t.Fatalf("after %s: %q", tt.name, r)
		}
	}
	// APPEND over APPENDLIMIT is refused before the literal is sent.
	_, small, _ := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.AppendLimit = 1000 })
	raw = dialRaw(t, small, false)
	raw.starttls()
	raw.cmd("a1", "LOGIN "+user+" \""+password+"\"")
	if r := last(raw.cmd("a3", "APPEND INBOX {5000}")); !strings.HasPrefix(r, "a3 NO [TOOBIG]") {
		t.Fatalf("APPEND over the limit: %q", r)
	}
	if r := last(raw.cmd("n2", "NOOP")); !strings.HasPrefix(r, "n2 OK") {
		t.Fatalf("after refused APPEND: %q", r)
	}
	// The server still serves.
	cl, _ := dial(t, addr, user)
	if err := cl.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestIdleTimeoutAndLimits(t *testing.T) {
	c := sharedCluster(t)
	srv, addr, _ := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.IdleTimeout = 300 * time.Millisecond; cfg.MaxSessionsPerIP = 2 })
	raw := dialRaw(t, addr, false)
	raw2 := dialRaw(t, addr, false)
	// A third connection from the same IP is refused.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	l, _ := bufio.NewReader(conn).ReadString('\n')
	if !strings.HasPrefix(l, "* BYE [UNAVAILABLE]") {
		t.Fatalf("third connection: %q", l)
	}
	// Silent connections are closed after the idle timeout.
	time.Sleep(600 * time.Millisecond)
	if l := raw.line(); l != "" {
		t.Fatalf("idle connection still open: %q", l)
	}
	_ = raw2
	waitFor(t, func() bool { return srv.limits.Open() == 0 })
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUnknownUserWhileCatchingUp: a node that has not applied all it has
// heard is committed answers LOGIN with NO [UNAVAILABLE] (temporary), for
// unknown and known users alike: its copy of an account may be missing, or
// hold a password the cluster already changed.
func TestUnknownUserWhileCatchingUp(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "catchup", password)
	var caughtUp atomic.Bool
	_, addr, _ := c.serve(t, c.Nodes[0], withLogin(t, c.Nodes[0], login.Config{CaughtUp: caughtUp.Load}))
	for _, tc := range []struct {
		caughtUp bool
		user     string
		want     imap.ResponseCode
	}{
		{false, "nobody@" + domain, imap.ResponseCodeUnavailable},
		{false, user, imap.ResponseCodeUnavailable},
		{true, "nobody@" + domain, imap.ResponseCodeAuthenticationFailed},
		{true, user, ""},
	} {
		caughtUp.Store(tc.caughtUp)
		cl, _ := dial(t, addr, "")
		err := cl.Login(tc.user, password).Wait()
		if (tc.want == "") != (err == nil) || imapCode(err) != tc.want {
			t.Errorf("caught up %v, LOGIN %s: %v, want %q", tc.caughtUp, tc.user, err, tc.want)
		}
		cl.Close()
	}
}
