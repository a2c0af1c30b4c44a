// Package faults runs real `surat serve` processes and injects faults into
// them: SIGKILL and SIGTERM today; network partitions (subpackage netns),
// full disks and crashes during snapshot installs reuse the same pieces.
// It owns four things, each usable on its own from a test:
//
//   - Cluster and Node (subpackage proc, tied to a test by harness.go): N
//     processes, each with its own --data directory, ports and log file,
//     started, killed, stopped and restarted with the same flags; the
//     agreed leader, readiness and /v1/digest convergence, read over each
//     node's admin API. A node may listen on a host other than 127.0.0.1
//     and run under a command prefix (such as `ip netns exec h1`) with
//     extra environment, for tests that place nodes in network namespaces.
//     The bench tools drive their clusters with proc too.
//   - SMTPLoad and Ledger (smtpload.go): concurrent senders on the MX port
//     of every live node, each message unique, each attempt's outcome
//     recorded: acknowledged (250 after DATA: must exist), refused before
//     the end of DATA (must not exist), a temporary failure after DATA or
//     an unknown outcome (may exist, at most once).
//   - CheckMail (mailcheck.go): every recipient's INBOX read over IMAP on
//     every live node and compared with the ledger: acknowledged messages
//     present exactly once, the same UID everywhere, nothing never sent.
//   - The linearizability check (linearizability.go, imapworkload.go):
//     IMAP clients on different nodes APPEND, STORE, FETCH FLAGS and UID
//     SEARCH on one mailbox while faults happen; the recorded history is
//     checked with porcupine against a sequential model of UID assignment
//     and per-message flags.
//
// # Running
//
// The real-process tests are behind the build tag `faults`; the unit tests
// of the model, the mail comparison and the harness's layout run with the
// ordinary suite. `make test-faults` builds bin/surat and runs them all:
//
//	SURAT_BIN=bin/surat go test -race -tags faults -v ./cluster/faults/...
//
// SURAT_BIN names the binary (without it TestMain builds one);
// SURAT_FAULT_ROUNDS the number of kill rounds (default 20; CI: 5);
// SURAT_FAULT_KEEP_GOING=1 runs every round even after one failed. With
// `-artifacts -outputdir DIR`, a failing test leaves its node logs, the
// list of problems of each failed round and porcupine's HTML rendering of
// a non-linearizable history under DIR/_artifacts.
//
// The package is test support: nothing in the server imports it, and it
// must not reach into the server's packages beyond their public types.
package faults
