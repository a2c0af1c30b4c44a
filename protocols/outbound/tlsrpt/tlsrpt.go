// Package tlsrpt holds the outcome of one outbound TLS session in the terms
// of SMTP TLS Reporting (RFC 8460): which policy applied to the recipient
// domain, and whether the session succeeded or which failure it met. The
// outbound transport produces one Outcome per connection attempt to an MX
// host (and one per policy that could not be fetched); the reports part of
// Surat records them and sends the daily aggregate reports. This package
// only names things: it has no behaviour and imports nothing of Surat.
package tlsrpt

import "time"

// PolicyType is RFC 8460 §4.4's policy-type.
type PolicyType string

const (
	PolicySTS      PolicyType = "sts"             // MTA-STS (RFC 8461)
	PolicyTLSA     PolicyType = "tlsa"            // DANE (RFC 7672)
	PolicyNotFound PolicyType = "no-policy-found" // neither
)

// ResultType is RFC 8460 §4.3's result-type of a failed session.
type ResultType string

// RFC 8460 §4.3.1 negotiation failures.
const (
	StartTLSNotSupported    ResultType = "starttls-not-supported"
	CertificateHostMismatch ResultType = "certificate-host-mismatch"
	CertificateExpired      ResultType = "certificate-expired"
	CertificateNotTrusted   ResultType = "certificate-not-trusted"
	ValidationFailure       ResultType = "validation-failure"
)

// RFC 8460 §4.3.2 (DANE) and §4.3.3 (MTA-STS) policy failures.
const (
	TLSAInvalid      ResultType = "tlsa-invalid"
	DNSSECInvalid    ResultType = "dnssec-invalid"
	DANERequired     ResultType = "dane-required"
	STSPolicyFetch   ResultType = "sts-policy-fetch-error"
	STSPolicyInvalid ResultType = "sts-policy-invalid"
	STSWebPKIInvalid ResultType = "sts-webpki-invalid"
)

// Outcome is one session's result for a report about PolicyDomain.
type Outcome struct {
	Time         time.Time
	PolicyDomain string     // the recipient domain (§4.4 policy-domain)
	PolicyType   PolicyType // §4.4 policy-type
	// PolicyStrings is the policy as published (§4.4 policy-string): the
	// MTA-STS policy's lines, or each TLSA record in presentation form.
	PolicyStrings []string
	// MXHost are the policy's mx patterns (§4.4 mx-host, MTA-STS only).
	MXHost []string

	// Success: TLS was negotiated as the policy requires. Otherwise
	// Result says what failed.
	Success bool
	Result  ResultType

	SendingMTAIP        string // §4.4 sending-mta-ip
	ReceivingMXHostname string // §4.4 receiving-mx-hostname
	ReceivingIP         string // §4.4 receiving-ip
	// FailureReasonCode is free text for a human (§4.4
	// failure-reason-code).
	FailureReasonCode string
}
