# Surat: build, test and run a local cluster.
GO      ?= go
BIN     := bin/surat
PKGS    := ./...
DATA    ?= ./data
GOBIN   := $(shell $(GO) env GOPATH)/bin

.PHONY: all build test test-short race fuzz run stop bench bench-smtp bench-imap lint generate acceptance clean

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

# The Go benchmarks, then SMTP ingest against Postfix → Dovecot (bench-smtp), then IMAP and
# POP3 against Dovecot (bench-imap).
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3s ./bench/...
	$(MAKE) --no-print-directory bench-smtp
	$(MAKE) --no-print-directory bench-imap

# SMTP ingest, Surat vs Postfix → Dovecot LMTP, in one run (~3 min). Needs root: it
# installs Debian's postfix and dovecot if missing. Writes bench/results/smtp-ingest.md.
bench-smtp: build
	GO=$(GO) SURAT_BIN=$${SURAT_BIN:-$(CURDIR)/$(BIN)} bench/smtp-ingest.sh

# IMAP and POP3, Surat vs Dovecot, in one run (~5-6 min, ~2.5 of them the 10,000 idle
# connections' logins). Needs root: it installs Debian's dovecot if missing and raises the
# file limit. Writes bench/results/imap-pop3.md.
bench-imap: build
	GO=$(GO) SURAT_BIN=$${SURAT_BIN:-$(CURDIR)/$(BIN)} bench/imap-pop3.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet $(PKGS)

# Regenerate log/events.pb.go from log/events.proto (needs protoc; Debian: protobuf-compiler).
generate:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	PATH="$(GOBIN):$$PATH" protoc --go_out=. --go_opt=paths=source_relative log/events.proto

acceptance: build
	../shared/acceptance/run . $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf bin
