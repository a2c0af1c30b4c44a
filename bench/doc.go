// Package bench holds Surat's load generators and measurements. Nothing in
// the server imports it; it only reports numbers and never asserts times
// (a benchmark fails only when the cluster is wrong, for instance when the
// nodes' digests differ after a run).
//
// What it measures:
//
//   - BenchmarkDeliveries: replicated commit throughput. An in-process
//     three-node cluster on loopback (real Raft with an fsync per append,
//     real Pebble projections) takes deliveries as the SMTP server makes
//     them: one proposal per message, a Batch of BlobStored (a fresh random
//     4 KiB body) and Delivered, submitted through propose.Submit to each
//     node in turn, so two thirds are forwarded by followers. It reports
//     deliveries per second, the p50 and p99 latency from submit to
//     acknowledgement (committed on a quorum and applied on the submitting
//     node), and how many proposals each Raft entry carried (group commit),
//     for 1, 8 and 32 concurrent senders, and for one sender on the leader
//     alone and on a follower alone (the cost of forwarding).
//
//   - BenchmarkFailover: leader failover with real processes. Three
//     `bin/surat serve` processes on loopback; the leader is killed with
//     SIGKILL (or stopped with SIGTERM, which hands leadership over) and the
//     time until a surviving node's GET /v1/cluster names a new leader is
//     measured, polling every 10 ms, over several rounds.
//
//   - SMTP ingest (bench/smtp-ingest.sh, not a Go benchmark): the load
//     generator of bench/smtpload (bench/cmd/smtpload: a new connection per
//     4 KiB message, N senders) against a three-process Surat cluster and,
//     in the same run, against Postfix delivering to Dovecot over LMTP
//     (Debian's packages, configured from bench/peers); messages per second
//     and the time from the end of DATA to the 250.
//
//   - IMAP and POP3 (bench/imap-pop3.sh, not a Go benchmark): the load
//     generator of bench/imapload (bench/cmd/imapload: go-imap v2's client,
//     a small POP3 client) against the same three-process cluster and, in
//     the same run, Dovecot (bench/peers): single commands on a 10,000-message
//     INBOX (SELECT, the metadata and body fetches, header and body SEARCH),
//     POP3 UIDL and RETR, a mixed workload of 20 persistent clients, and the
//     memory of idle connections on one node.
//
//   - Failover under load (bench/cmd/failover, library bench/failover): the
//     same three processes (cluster/faults/proc starts and drives them), SIGKILL
//     and SIGTERM rounds, and SMTP acknowledgements per 100 ms bucket while
//     the leader is SIGKILLed under load, the senders retrying on the next MX.
//
//   - How cost grows (bench/cmd/scale, library bench/scale): ingest, RSS and
//     Pebble size at 1k/10k/100k users on real processes, and the time a
//     wiped node takes to recover from a snapshot of 1,000,000 messages.
//
//   - Login flood (bench/cmd/loginflood, library bench/loginflood): one real
//     node (cluster/faults/proc) while 2,000 connections from 40 loopback
//     addresses loop wrong IMAP passwords for 20 s: the node's RSS (idle,
//     peak) and the login time of a returning user and of first-time
//     users meanwhile.
//
//   - The spam classifier (bench/cmd/spamcorpus, library bench/spamcorpus):
//     ten-fold on the SpamAssassin public corpus (npm), a fresh three-node
//     cluster per fold trained with `surat spam train` and tested over
//     SMTP, beside bogofilter on the same split; and SMTP ingest with the
//     classifier on vs off.
//
//   - IMAP extensions (bench/cmd/imapext, library bench/imapext): QRESYNC
//     resync (time and bytes), UID SORT (DATE) and UID THREAD REFERENCES on
//     one threaded mailbox, three Surat nodes and Dovecot side by side over
//     implicit TLS; "not supported" for a capability a server lacks.
//
//   - Dovecot's imaptest (bench/cmd/imaptest, library bench/imaptest): its
//     compliance scripts and its stress mode against three nodes over
//     --imaps (`make imaptest`).
//
//   - The summary (bench/cmd/report, library bench/report): summary.md and
//     summary.png in bench/results, from the JSON lines of all the above.
//
// Run the comparison with `make bench` (it builds bin/surat first), the
// Go benchmarks with `make bench-go`, or:
//
//	go test -run '^$' -bench 'Deliveries/senders=8' -benchtime 5s ./bench/
//	go test -run '^$' -bench Failover -benchtime 5x ./bench/  # needs `make build`
//
// SURAT_BENCH_LOG=1 sends the in-process nodes' warnings to stderr.
// README.md explains each number; results/LOG.md keeps every published run.
package bench
