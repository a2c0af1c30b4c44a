// Package admin is Surat's operator HTTP API (docs/OPERATING.md, "HTTP endpoints")
// and the Client the surat CLI uses to call it.
//
// Routes (Go 1.22 method patterns):
//
//	GET    /healthz                        200 while serving; never needs the token
//	GET    /readyz                         200 iff the node is ready, else 503; never needs the token
//	GET    /metrics                        Prometheus text exposition
//	GET    /v1/cluster                     this node's view of the cluster
//	GET    /v1/digest                      {"applied_index": N, "digest": "<hex>"}
//	GET    /v1/users                       {"users": [...]} sorted
//	POST   /v1/users                       {"address","password"} → 201
//	GET    /v1/users/{address}             the user's record
//	PUT    /v1/users/{address}/password    {"password"} → 204
//	PUT    /v1/users/{address}/quota       {"bytes": N[, "messages": M]} → 204
//	DELETE /v1/users/{address}             → 204
//	GET    /v1/queue                       {"entries": [...]} the outbound queue, by id
//	POST   /v1/queue/{id}/retry            make the entry due now (QueueRetried) → 204; 404 if unknown
//	DELETE /v1/queue/{id}                  drop the entry, no DSN (QueueDeleted) → 204; 404 if unknown
//	GET    /v1/domains                     {"domains": [...]} sorted
//	POST   /v1/domains                     {"domain"} (DomainAdded with new DKIM keys) → 201; 409 if present
//	GET    /v1/domains/{domain}            settings and DKIM selectors (never a private key)
//	DELETE /v1/domains/{domain}            (DomainRemoved) → 204; 409 while a user or alias of it exists
//	GET    /v1/domains/{domain}/records    {"records": [...]} the DNS records to publish; ?check=1 adds "problems"
//	PUT    /v1/domains/{domain}/settings   {"dmarc_report_only","dmarc_policy","mta_sts"} (DomainSettingsChanged) → 200
//	POST   /v1/domains/{domain}/keys       rotate: a new Ed25519 and RSA key (DkimKeyAdded) → 201
//	DELETE /v1/domains/{domain}/keys/{selector}  retire a key (DkimKeyRetired) → 204
//	GET    /v1/bans                        {"bans": [...]} the client bans in force
//	POST   /v1/bans                        {"prefix","seconds","reason"} (BanAdded) → 201; seconds absent: 24 h, 0: never expires
//	DELETE /v1/bans/{prefix...}            lift a ban, e.g. /v1/bans/192.0.2.0/24 (BanRemoved) → 204; 404 if none
//	GET    /v1/dmarc/reports[?domain=D]    {"reports": [...]} received DMARC aggregate reports, newest first per domain (limit=N, default 100)
//	GET    /v1/dmarc/pending               {"pending": [...]} DMARC and TLS-RPT domain-days not reported yet
//	POST   /v1/spam/train                  {"user","class":"spam"|"ham","messages":[base64...]} (SpamTrained, in bounded proposals) → 200 {"trained": N}; 404 unknown user
//	GET    /v1/spam/status[?user=U]        {"models": [...]} messages trained and tokens of each classifier model, the global one first
//	GET    /v1/users/{address}/acl?mailbox=M  {"owner","mailbox","entries":[{"identifier","rights"}]} the mailbox's ACL (RFC 4314); 404 no such mailbox
//	PUT    /v1/users/{address}/acl         {"mailbox","identifier","rights"} (AclSet, as SETACL: +/- modify, "" removes) → 200 the ACL
//
// Errors are JSON {"error": "one line"}. With a token configured, /v1/ and
// /metrics need "Authorization: Bearer <token>" (RFC 6750 §2.1).
//
// The package reads through small consumer-side interfaces (Directory,
// Digester, Cluster, Queue, BanList, DomainStore, Reports, SpamModels) and writes only by proposing events: it must not import
// mailbox/, open the store, or read the environment. Password hashes are
// computed here, by the proposer (docs/DESIGN.md invariant 2).
package admin
