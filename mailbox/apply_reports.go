package mailbox

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
)

// Bounds of the report projections (see the package doc). They are part
// of apply's semantics: every node must use the same values.
const (
	// MaxDMARCRowsPerDay bounds the rows of one (policy domain, UTC day);
	// further distinct results only count in the day's overflow.
	MaxDMARCRowsPerDay = 2000
	// MaxTLSRowsPerDay bounds the rows of one TLS-RPT domain-day.
	MaxTLSRowsPerDay = 500
	// MaxReceivedReports is how many received DMARC report summaries are
	// kept per domain; the oldest goes first.
	MaxReceivedReports = 100
	// MaxReceivedSources bounds the source rows of one kept summary.
	MaxReceivedSources = 200

	// maxReportText bounds one string of a recorded result.
	maxReportText = 1024
	// maxReportList bounds a list of a recorded result (DKIM results,
	// override reasons, rua URIs, MX host patterns).
	maxReportList = 16
	// maxPolicyStrings bounds an STS policy's lines or a TLSA record set.
	maxPolicyStrings = 64
	secondsPerDay    = 86400
)

// reportDay is the UTC day (days since the epoch) of a proposer's time;
// ok is false before the epoch or past what a u32 day holds.
func reportDay(unix int64) (uint32, bool) {
	if unix < 0 || unix/secondsPerDay > int64(^uint32(0)) {
		return 0, false
	}
	return uint32(unix / secondsPerDay), true
}

// reportDomainOK accepts the domain names the proposer produces: lower
// case, no controls (NUL separates key fields), not empty, at most 253
// octets (RFC 1035 §2.3.4 with the dot dropped).
func reportDomainOK(d string) bool {
	return d != "" && len(d) <= 253 && !hasControl(d) && d == strings.ToLower(d) &&
		!strings.ContainsAny(d, " @/")
}

// textsOK reports whether every string is bounded and free of controls.
func textsOK(ss ...string) bool {
	for _, s := range ss {
		if len(s) > maxReportText || hasControl(s) {
			return false
		}
	}
	return true
}

// checkDMARCRecorded says why a DmarcRecorded cannot be kept ("" when it
// can). Recording never refuses: the event travels with a delivery.
func checkDMARCRecorded(e *evlog.DmarcRecorded) string {
	p, r := e.GetPolicy(), e.GetRow()
	switch {
	case p == nil || r == nil:
		return "no policy or no row"
	case !reportDomainOK(p.GetDomain()):
		return "policy domain is not a domain name"
	case len(p.GetRua()) > maxReportList || !textsOK(p.GetRua()...):
		return "rua list too long"
	case !textsOK(p.GetAdkim(), p.GetAspf(), p.GetP(), p.GetSp(), p.GetNp(), p.GetFo()):
		return "policy text too long"
	case !textsOK(r.GetSourceIp(), r.GetHeaderFrom(), r.GetEnvelopeFrom(), r.GetDisposition(),
		r.GetDkimAligned(), r.GetSpfAligned(), r.GetSpf().GetDomain(), r.GetSpf().GetScope(), r.GetSpf().GetResult()):
		return "row text too long"
	case len(r.GetDkim()) > maxReportList || len(r.GetReasons()) > maxReportList:
		return "too many DKIM results or reasons"
	}
	for _, d := range r.GetDkim() {
		if !textsOK(d.GetDomain(), d.GetSelector(), d.GetResult()) {
			return "DKIM result text too long"
		}
	}
	for _, o := range r.GetReasons() {
		if !textsOK(o.GetType(), o.GetComment()) {
			return "reason text too long"
		}
	}
	if _, ok := reportDay(e.GetDateUnix()); !ok {
		return "date out of range"
	}
	return ""
}

// dmarcRecorded counts one message's result in its domain-day's row. A
// result without a rua, or one that cannot be kept, changes nothing.
func (t *txn) dmarcRecorded(e *evlog.DmarcRecorded) (*evlog.EventResult, error) {
	if len(e.GetPolicy().GetRua()) == 0 {
		return nil, nil // RFC 7489 §7.2: only domains that ask get reports
	}
	if why := checkDMARCRecorded(e); why != "" {
		t.logger.Warn("DMARC result not kept", "raft_index", t.index, "reason", why)
		return nil, nil
	}
	dom := e.GetPolicy().GetDomain()
	day, _ := reportDay(e.GetDateUnix())
	dayKey := dmarcDayKey(day, dom)
	rec := &evlog.DmarcDayRecord{Domain: dom, Day: day}
	if _, err := t.getRecord(dayKey, rec); err != nil {
		return nil, err
	}
	if rec.GetSentUnix() == 0 {
		rec.Policy = e.GetPolicy()
	}
	row := &evlog.DmarcRowRecord{Row: e.GetRow()}
	rowKey := append(dmarcRowPrefix(day, dom), dmarcRowDigest(e.GetRow())...)
	return nil, t.countInDay(dayKey, rec, dmarcCounts(rec), MaxDMARCRowsPerDay, rowKey, row, &row.Count)
}

// dayCounts points at the counters of a day record (DmarcDayRecord,
// TLSDayRecord), so that one code counts and closes both kinds.
type dayCounts struct {
	rows                  *uint32
	count, overflow, late *uint64
	sent                  *int64
}

func dmarcCounts(r *evlog.DmarcDayRecord) dayCounts {
	return dayCounts{rows: &r.Rows, count: &r.Messages, overflow: &r.Overflow, late: &r.Late, sent: &r.SentUnix}
}

func tlsCounts(r *evlog.TLSDayRecord) dayCounts {
	return dayCounts{rows: &r.Rows, count: &r.Sessions, overflow: &r.Overflow, late: &r.Late, sent: &r.SentUnix}
}

// countInDay counts one result in day (stored at dayKey, its counters at
// c): in its row at rowKey (row holds the result's identity; rowCount is
// its count field), a new row while the day has fewer than maxRows, the
// overflow otherwise, or late once the day was sent.
func (t *txn) countInDay(dayKey []byte, day proto.Message, c dayCounts, maxRows uint32, rowKey []byte, row proto.Message, rowCount *uint64) error {
	if *c.sent != 0 {
		*c.late++
		return t.putRecord(dayKey, day)
	}
	// A stored row replaces the identity with the same one, and its count.
	found, err := t.getRecord(rowKey, row)
	if err != nil {
		return err
	}
	if !found {
		if *c.rows >= maxRows {
			*c.overflow++
			return t.putRecord(dayKey, day)
		}
		*c.rows++
	}
	*rowCount++
	*c.count++
	if err := t.putRecord(rowKey, row); err != nil {
		return err
	}
	return t.putRecord(dayKey, day)
}

// dmarcReportsSent closes a domain-day: the report proposed with it
// covers exactly its rows.
func (t *txn) dmarcReportsSent(e *evlog.DmarcReportsSent) (*evlog.EventResult, error) {
	rec := new(evlog.DmarcDayRecord)
	return nil, t.closeDay(e.GetDomain(), e.GetDay(), e.GetSentUnix(), e.GetRows(), e.GetMessages(),
		dmarcDayKey(e.GetDay(), e.GetDomain()), dmarcRowPrefix(e.GetDay(), e.GetDomain()), rec, dmarcCounts(rec))
}

// closeDay deletes a day's rows and marks it sent at sentUnix, once the
// report covers them all (checkClose).
func (t *txn) closeDay(dom string, day uint32, sentUnix int64, sentRows uint32, sentCount uint64,
	dayKey, rowPrefix []byte, rec proto.Message, c dayCounts) error {
	if !reportDomainOK(dom) || sentUnix <= 0 {
		return refuse(errInvalid, "reports sent: domain %q, sent at %d", dom, sentUnix)
	}
	found, err := t.getRecord(dayKey, rec)
	if err != nil {
		return err
	}
	if err := checkClose(found, *c.sent, *c.rows, sentRows, *c.count, sentCount, dom, day); err != nil {
		return err
	}
	if err := t.deletePrefix(rowPrefix); err != nil {
		return err
	}
	*c.sent, *c.rows = sentUnix, 0
	return t.putRecord(dayKey, rec)
}

// checkClose refuses to close a domain-day that is unknown, closed
// already, or holds other rows than the report covers.
func checkClose(found bool, sent int64, rows, sentRows uint32, count, sentCount uint64, dom string, day uint32) error {
	switch {
	case !found:
		return refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_REPORT, "nothing recorded for %s on day %d", dom, day)
	case sent != 0:
		return refuse(evlog.ErrorCode_ERROR_CODE_REPORT_SENT, "the report for %s on day %d went out at %d", dom, day, sent)
	case rows != sentRows || count != sentCount:
		return refuse(evlog.ErrorCode_ERROR_CODE_REPORT_CHANGED, "%s on day %d holds %d rows (%d counted), the report %d (%d)",
			dom, day, rows, count, sentRows, sentCount)
	}
	return nil
}

// checkTLSResult says why a TLSResult cannot be kept ("" when it can).
func checkTLSResult(e *evlog.TLSResult) string {
	p, f := e.GetPolicy(), e.GetFailure()
	switch {
	case p == nil:
		return "no policy"
	case !reportDomainOK(p.GetDomain()):
		return "policy domain is not a domain name"
	case len(e.GetRua()) > maxReportList || !textsOK(e.GetRua()...):
		return "rua list too long"
	case len(p.GetStrings()) > maxPolicyStrings || !textsOK(p.GetStrings()...) || !textsOK(p.GetType()):
		return "policy strings too long"
	case len(p.GetMxHosts()) > maxReportList || !textsOK(p.GetMxHosts()...):
		return "too many MX hosts"
	case !textsOK(f.GetResultType(), f.GetSendingMtaIp(), f.GetReceivingMxHostname(), f.GetReceivingMxHelo(),
		f.GetReceivingIp(), f.GetAdditionalInformation(), f.GetFailureReasonCode()):
		return "failure text too long"
	}
	if _, ok := reportDay(e.GetDateUnix()); !ok {
		return "date out of range"
	}
	return ""
}

// tlsResult counts one session in its domain-day's row.
func (t *txn) tlsResult(e *evlog.TLSResult) (*evlog.EventResult, error) {
	if len(e.GetRua()) == 0 {
		return nil, nil // RFC 8460 §3: only domains that publish a rua
	}
	if why := checkTLSResult(e); why != "" {
		t.logger.Warn("TLS-RPT result not kept", "raft_index", t.index, "reason", why)
		return nil, nil
	}
	dom := e.GetPolicy().GetDomain()
	day, _ := reportDay(e.GetDateUnix())
	dayKey := tlsDayKey(day, dom)
	rec := &evlog.TLSDayRecord{Domain: dom, Day: day}
	if _, err := t.getRecord(dayKey, rec); err != nil {
		return nil, err
	}
	if rec.GetSentUnix() == 0 {
		rec.Rua = e.GetRua()
	}
	row := &evlog.TLSRowRecord{Policy: e.GetPolicy(), Failure: e.GetFailure()}
	rowKey := append(tlsRowPrefix(day, dom), tlsRowDigest(e.GetPolicy(), e.GetFailure())...)
	return nil, t.countInDay(dayKey, rec, tlsCounts(rec), MaxTLSRowsPerDay, rowKey, row, &row.Count)
}

func (t *txn) tlsReportsSent(e *evlog.TLSReportsSent) (*evlog.EventResult, error) {
	rec := new(evlog.TLSDayRecord)
	return nil, t.closeDay(e.GetDomain(), e.GetDay(), e.GetSentUnix(), e.GetRows(), e.GetSessions(),
		tlsDayKey(e.GetDay(), e.GetDomain()), tlsRowPrefix(e.GetDay(), e.GetDomain()), rec, tlsCounts(rec))
}

// reportsPruned deletes every domain-day before before_day, DMARC and
// TLS-RPT, sent or not: the day is the first field of their keys.
func (t *txn) reportsPruned(e *evlog.ReportsPruned) (*evlog.EventResult, error) {
	for _, p := range []string{prefixDMARCDay, prefixDMARCRow, prefixTLSDay, prefixTLSRow} {
		upper := binary.BigEndian.AppendUint32([]byte(p), e.GetBeforeDay())
		keys, err := t.scan([]byte(p), upper)
		if err != nil {
			return nil, err
		}
		for _, x := range keys {
			if err := t.del(x.key); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// dmarcReportReceived keeps a received report's summary, replacing an
// earlier copy of the same report and dropping the domain's oldest past
// MaxReceivedReports (by received_unix). Like recording, it never
// refuses: a summary that cannot be kept is dropped.
func (t *txn) dmarcReportReceived(e *evlog.DmarcReportReceived) (*evlog.EventResult, error) {
	if !reportDomainOK(e.GetDomain()) || !textsOK(e.GetOrgName(), e.GetEmail(), e.GetReportId(), e.GetPolicy()) {
		t.logger.Warn("received DMARC report not kept", "raft_index", t.index, "reason", "domain or text out of bounds")
		return nil, nil
	}
	rec := proto.Clone(e).(*evlog.DmarcReportReceived)
	if n := len(rec.Sources); n > MaxReceivedSources {
		rec.MoreSources += uint32(n - MaxReceivedSources)
		rec.Sources = rec.Sources[:MaxReceivedSources]
	}
	for _, s := range rec.Sources {
		if !textsOK(s.GetSourceIp(), s.GetHeaderFrom(), s.GetDisposition(), s.GetDkim(), s.GetSpf()) {
			t.logger.Warn("received DMARC report not kept", "raft_index", t.index, "reason", "source text out of bounds")
			return nil, nil
		}
	}
	prefix := dmarcInPrefix(rec.Domain)
	kept, err := t.scan(prefix, prefixEnd(prefix))
	if err != nil {
		return nil, err
	}
	var live [][]byte
	for _, x := range kept {
		old := new(evlog.DmarcReportReceived)
		if err := evlog.UnmarshalRecord(x.value, old); err != nil {
			return nil, fmt.Errorf("decode received report %q: %w", x.key, err)
		}
		if old.GetOrgName() == rec.GetOrgName() && old.GetReportId() == rec.GetReportId() {
			if err := t.del(x.key); err != nil {
				return nil, err
			}
			continue
		}
		live = append(live, x.key)
	}
	for len(live) >= MaxReceivedReports {
		if err := t.del(live[0]); err != nil {
			return nil, err
		}
		live = live[1:]
	}
	// Keyed by the proposer's receipt time, not by log position, so
	// that the projection depends on the events alone.
	var d digester
	d.str(rec.GetOrgName(), rec.GetReportId())
	key := binary.BigEndian.AppendUint64(prefix, uint64(max(rec.GetReceivedUnix(), 0)))
	return nil, t.putRecord(append(key, d.sum()...), rec)
}

// Report keys (see the package doc): the day comes first, so that pruning
// and the sender's scan of closed days are range reads.
const (
	prefixDMARCDay = "dmd/"
	prefixDMARCRow = "dmr/"
	prefixTLSDay   = "tld/"
	prefixTLSRow   = "tlr/"
	prefixDMARCIn  = "dmi/"
	rowDigestLen   = 16
)

func dayDomainKey(prefix string, day uint32, dom string) []byte {
	return append(binary.BigEndian.AppendUint32([]byte(prefix), day), dom...)
}

func dmarcDayKey(day uint32, dom string) []byte { return dayDomainKey(prefixDMARCDay, day, dom) }

func dmarcRowPrefix(day uint32, dom string) []byte {
	return append(dayDomainKey(prefixDMARCRow, day, dom), 0)
}

func tlsDayKey(day uint32, dom string) []byte { return dayDomainKey(prefixTLSDay, day, dom) }

func tlsRowPrefix(day uint32, dom string) []byte {
	return append(dayDomainKey(prefixTLSRow, day, dom), 0)
}

func dmarcInPrefix(dom string) []byte { return []byte(prefixDMARCIn + dom + "\x00") }

// digester hashes a row's fields in a canonical encoding of its own (each
// string length-prefixed, in a fixed order), so that a row's key never
// depends on how a protobuf library orders or encodes fields.
type digester struct{ buf []byte }

func (d *digester) str(ss ...string) {
	for _, s := range ss {
		d.buf = binary.AppendUvarint(d.buf, uint64(len(s)))
		d.buf = append(d.buf, s...)
	}
}

func (d *digester) n(n int) { d.buf = binary.AppendUvarint(d.buf, uint64(n)) }

func (d *digester) sum() []byte {
	s := sha256.Sum256(d.buf)
	return s[:rowDigestLen]
}

func dmarcRowDigest(r *evlog.DmarcRow) []byte {
	var d digester
	d.str(r.GetSourceIp(), r.GetHeaderFrom(), r.GetEnvelopeFrom(), r.GetDisposition(), r.GetDkimAligned(), r.GetSpfAligned())
	d.n(len(r.GetReasons()))
	for _, o := range r.GetReasons() {
		d.str(o.GetType(), o.GetComment())
	}
	d.n(len(r.GetDkim()))
	for _, k := range r.GetDkim() {
		d.str(k.GetDomain(), k.GetSelector(), k.GetResult())
	}
	if s := r.GetSpf(); s != nil {
		d.n(1)
		d.str(s.GetDomain(), s.GetScope(), s.GetResult())
	} else {
		d.n(0)
	}
	return d.sum()
}

func tlsRowDigest(p *evlog.TLSPolicy, f *evlog.TLSFailure) []byte {
	var d digester
	d.str(p.GetType(), p.GetDomain())
	d.n(len(p.GetStrings()))
	d.str(p.GetStrings()...)
	d.n(len(p.GetMxHosts()))
	d.str(p.GetMxHosts()...)
	if f != nil {
		d.n(1)
		d.str(f.GetResultType(), f.GetSendingMtaIp(), f.GetReceivingMxHostname(), f.GetReceivingMxHelo(),
			f.GetReceivingIp(), f.GetAdditionalInformation(), f.GetFailureReasonCode())
	} else {
		d.n(0)
	}
	return d.sum()
}
