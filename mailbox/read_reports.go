package mailbox

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
)

// scanRecords decodes every record under prefix, in key order.
func scanRecords[T proto.Message](s *Store, lower, upper []byte, fresh func() T, what string) ([]T, error) {
	var out []T
	err := s.view(func(r reader) error {
		return scanRange(r, lower, upper, func(k, v []byte) (bool, error) {
			rec := fresh()
			if err := evlog.UnmarshalRecord(v, rec); err != nil {
				return false, fmt.Errorf("mailbox: decode %s %x: %w", what, k, err)
			}
			out = append(out, rec)
			return true, nil
		})
	})
	return out, err
}

// DMARCDays lists the DMARC domain-days kept, sent or not, by day then
// domain.
func (s *Store) DMARCDays() ([]*evlog.DmarcDayRecord, error) {
	p := []byte(prefixDMARCDay)
	return scanRecords(s, p, prefixEnd(p), func() *evlog.DmarcDayRecord { return new(evlog.DmarcDayRecord) }, "DMARC day")
}

// DMARCRows lists the rows of one DMARC domain-day (none once it is sent).
func (s *Store) DMARCRows(domain string, day uint32) ([]*evlog.DmarcRowRecord, error) {
	p := dmarcRowPrefix(day, domain)
	return scanRecords(s, p, prefixEnd(p), func() *evlog.DmarcRowRecord { return new(evlog.DmarcRowRecord) }, "DMARC row")
}

// TLSDays lists the TLS-RPT domain-days kept, by day then domain.
func (s *Store) TLSDays() ([]*evlog.TLSDayRecord, error) {
	p := []byte(prefixTLSDay)
	return scanRecords(s, p, prefixEnd(p), func() *evlog.TLSDayRecord { return new(evlog.TLSDayRecord) }, "TLS-RPT day")
}

// TLSRows lists the rows of one TLS-RPT domain-day.
func (s *Store) TLSRows(domain string, day uint32) ([]*evlog.TLSRowRecord, error) {
	p := tlsRowPrefix(day, domain)
	return scanRecords(s, p, prefixEnd(p), func() *evlog.TLSRowRecord { return new(evlog.TLSRowRecord) }, "TLS-RPT row")
}

// DMARCReports lists the received aggregate report summaries kept for
// domain ("" for every domain): by domain, newest first.
func (s *Store) DMARCReports(domain string) ([]*evlog.DmarcReportReceived, error) {
	lower := []byte(prefixDMARCIn)
	if domain != "" {
		lower = dmarcInPrefix(domain)
	}
	list, err := scanRecords(s, lower, prefixEnd(lower), func() *evlog.DmarcReportReceived { return new(evlog.DmarcReportReceived) }, "received DMARC report")
	if err != nil {
		return nil, err
	}
	// Keys run oldest first within a domain: reverse each domain's run.
	for i := 0; i < len(list); {
		j := i
		for j < len(list) && list[j].GetDomain() == list[i].GetDomain() {
			j++
		}
		slices.Reverse(list[i:j])
		i = j
	}
	return list, nil
}
