#!/usr/bin/env bash
# SMTP ingest: Surat (three `surat serve` processes, fsync on) against Postfix → Dovecot LMTP
# (Debian's packages, fsync on), the same load in the same run. See bench/README.md.
#
# For each round and each sender count it runs bench/cmd/smtpload (4 KiB messages, a new
# connection per message, one recipient, no TLS unless STARTTLS=1) against Surat's MX (each
# sender takes the three nodes in turn) and against Postfix, where it also waits until every
# accepted message is in the maildir. A temporary failure (4xx, a refused or broken connection) is
# retried on the next address with backoff, as an MTA would, and counted (the report's retries
# column). It writes bench/results/smtp-ingest.md (and .jsonl),
# and stops and removes everything it started on every exit path.
#
# Needs root (apt-get, Postfix, Dovecot) and Linux. Installs what is missing.
# Environment (defaults in brackets):
#   SURAT_BIN [bin/surat]    the binary to measure (make bench builds it)
#   MESSAGES [3000]          messages per run          LEVELS ["1 8 32"]  sender counts
#   ROUNDS [3]               runs of every level       DURATION [60s]     bound of one run
#   STARTTLS [0]             1: STARTTLS in every session, on both servers
#   ONE_SOURCE [0]           1: every sender connects from 127.0.0.1 (default: sender i from
#                            127.0.1.i, as separate sending hosts; Surat allows 20 sessions
#                            per client address and node, and 421s the 21st)
#   SURAT_REV                what to call the binary's source in the report (default: the
#                            commit of the git checkout that holds SURAT_BIN)
#   RESULTS [bench/results]  where the report goes     KEEP_STATE [0]     1: keep the temp dir
#   PEER [1]                 0: Surat alone (no Postfix/Dovecot; for experiments, no ratio)
#   SAMPLES_DIR              if set, one CSV per run there with every message's timings
#   GO [go]
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
GO=${GO:-go}
SURAT=${SURAT_BIN:-$ROOT/bin/surat}
MESSAGES=${MESSAGES:-3000}
LEVELS=${LEVELS:-1 8 32}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-60s}
STARTTLS=${STARTTLS:-0}
RESULTS=${RESULTS:-$BENCH_DIR/results}
KEEP_STATE=${KEEP_STATE:-0}

# Loopback ports. Surat: Raft, gossip (TCP and UDP), HTTP, MX of n1..n3.
SURAT_RAFT=(17001 17002 17003)
SURAT_GOSSIP=(17101 17102 17103)
SURAT_HTTP=(17201 17202 17203)
SURAT_SMTP=(12601 12602 12603)
# The peer stack's (bench/peers): IMAP, IMAPS, POP3, POP3S, LMTP, SMTP.
PEER_PORTS=(11143 11993 11110 11995 12424 12525)
PEER_SMTP=127.0.0.1:12525
RCPT=u1@example.test

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'smtp-ingest.sh: %s\n' "$*" >&2; exit 1; }

[ "$(uname -s)" = Linux ] || die "needs Linux (/proc, Debian's packages)"
[ "$(id -u)" -eq 0 ] || die "needs root: it installs and runs Postfix and Dovecot"
[ -x "$SURAT" ] || die "no $SURAT: run make build, or set SURAT_BIN"

# --- refuse to run next to anything that uses our ports ---------------------------------
all_tcp=("${SURAT_RAFT[@]}" "${SURAT_GOSSIP[@]}" "${SURAT_HTTP[@]}" "${SURAT_SMTP[@]}" "${PEER_PORTS[@]}")
busy=$( { ss -Htln; ss -Huln; } | awk '{print $4}' | sed 's/.*://' | sort -u)
for p in "${all_tcp[@]}"; do
	if grep -qx "$p" <<<"$busy"; then
		ss -tulnp | grep -E ":$p\b" >&2 || true
		die "port $p is in use: stop what listens there first"
	fi
done

# --- install the peer stack if missing ----------------------------------------------------
if ! command -v postfix >/dev/null || ! command -v dovecot >/dev/null ||
	[ ! -x /usr/lib/dovecot/lmtp ] || [ ! -x /usr/lib/dovecot/imap ] ||
	[ ! -x /usr/lib/dovecot/pop3 ] || ! command -v openssl >/dev/null; then
	say "installing postfix, dovecot-lmtpd, dovecot-imapd, dovecot-pop3d, openssl"
	apt-get update -qq
	echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
	echo "postfix postfix/mailname string peer.example.test" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
		dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix openssl >/dev/null
fi
id vmail >/dev/null 2>&1 || useradd -r -u 5000 -U -d /nonexistent -s /usr/sbin/nologin vmail
getent group dovecot >/dev/null || die "no group dovecot (is dovecot-core installed?)"

PF_QUEUE=$(postconf -dh queue_directory)
PF_PIDFILE=$PF_QUEUE/pid/master.pid
if [ -s "$PF_PIDFILE" ] && kill -0 "$(tr -dc 0-9 <"$PF_PIDFILE")" 2>/dev/null; then
	die "a Postfix master already runs on $PF_QUEUE (the system's?): stop it first"
fi
queue_files() { find "$PF_QUEUE"/{incoming,active,deferred,hold,maildrop} -type f 2>/dev/null | head -1; }
[ -z "$(queue_files)" ] || die "the Postfix queue in $PF_QUEUE is not empty: not ours to touch"

# --- state and cleanup ----------------------------------------------------------------------
STATE=$(mktemp -d "${TMPDIR:-/tmp}/surat-smtp-ingest.XXXXXX")
chmod 755 "$STATE" # traversed by vmail, dovecot and dovenull
PEER_STATE=$STATE/peer
PF_CONF=$PEER_STATE/postfix
SURAT_PIDS=()
PEER_STARTED=0

stop_pid() { # PID: SIGTERM, then SIGKILL after 10 s
	local pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	for pid in "${SURAT_PIDS[@]}"; do stop_pid "$pid"; done
	for pid in "${SURAT_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	if [ "$PEER_STARTED" = 1 ]; then
		local pf dv
		pf=$(tr -dc 0-9 <"$PF_PIDFILE" 2>/dev/null)
		dv=$(tr -dc 0-9 <"$PEER_STATE/run/master.pid" 2>/dev/null)
		postfix -c "$PF_CONF" stop >/dev/null 2>&1
		dovecot -c "$PEER_STATE/dovecot.conf" stop >/dev/null 2>&1
		for _ in $(seq 100); do
			{ [ -n "$pf" ] && kill -0 "$pf" 2>/dev/null; } || { [ -n "$dv" ] && kill -0 "$dv" 2>/dev/null; } || break
			sleep 0.1
		done
		[ -n "$pf" ] && kill -0 "$pf" 2>/dev/null && kill -KILL "$pf"
		[ -n "$dv" ] && kill -0 "$dv" 2>/dev/null && kill -KILL "$dv"
		# The queue was empty when we started: whatever is left is this run's.
		[ -n "$(queue_files)" ] && postsuper -c "$PF_CONF" -d ALL >/dev/null 2>&1
		rm -f "$PF_QUEUE/private/dovecot-lmtp"
	fi
	if [ "$rc" -ne 0 ]; then
		for f in "$STATE"/n?.log "$PEER_STATE/postfix-start.log" "$PEER_STATE/postfix.log" "$PEER_STATE/dovecot.log"; do
			[ -s "$f" ] && { echo "--- tail of $f" >&2; tail -n 15 "$f" >&2; }
		done
	fi
	if [ "$KEEP_STATE" = 1 ]; then echo "state kept in $STATE" >&2; else rm -rf "$STATE"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "building the load generator"
(cd "$ROOT" && "$GO" build -o "$STATE/smtpload" ./bench/cmd/smtpload)
LOAD=$STATE/smtpload

# --- the peer stack: Postfix → Dovecot LMTP (bench/peers) ---------------------------------------
start_peer() {
	mkdir -p "$PEER_STATE/run" "$PEER_STATE/ssl" "$PEER_STATE/mail" "$PF_CONF"
	chmod 755 "$PEER_STATE" "$PEER_STATE/run"
	chown vmail:vmail "$PEER_STATE/mail"
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=mail.example.test" \
		-keyout "$PEER_STATE/ssl/key.pem" -out "$PEER_STATE/ssl/cert.pem" 2>/dev/null
	chmod 600 "$PEER_STATE/ssl/key.pem"
	install -o root -g dovecot -m 640 "$BENCH_DIR/peers/users.passwd" "$PEER_STATE/users.passwd"
	local esc_state esc_queue
	esc_state=$(printf '%s' "$PEER_STATE" | sed -e 's/[\\|&]/\\&/g')
	esc_queue=$(printf '%s' "$PF_QUEUE" | sed -e 's/[\\|&]/\\&/g')
	sed -e "s|@PEER_STATE@|$esc_state|g" "$BENCH_DIR/peers/postfix/main.cf.in" >"$PF_CONF/main.cf"
	cp "$BENCH_DIR"/peers/postfix/{master.cf,vmailbox,virtual_spread.regexp} "$PF_CONF/"
	chmod 644 "$PF_CONF"/*
	postmap -c "$PF_CONF" "hash:$PF_CONF/vmailbox"
	sed -e "s|@PEER_STATE@|$esc_state|g" -e "s|@POSTFIX_QUEUE@|$esc_queue|g" \
		"$BENCH_DIR/peers/dovecot.conf.in" >"$PEER_STATE/dovecot.conf"
	PEER_STARTED=1
	dovecot -c "$PEER_STATE/dovecot.conf"
	if [ -x /usr/lib/postfix/configure-instance.sh ]; then
		MAIL_CONFIG=$PF_CONF /usr/lib/postfix/configure-instance.sh - >/dev/null
	fi
	postfix -c "$PF_CONF" start >"$PEER_STATE/postfix-start.log" 2>&1 || true
	local up
	for _ in $(seq 50); do
		up=$(ss -Htln | awk '{print $4}' | grep -cE "^127\.0\.0\.1:($(IFS='|'; echo "${PEER_PORTS[*]}"))$" || true)
		[ "$up" -eq "${#PEER_PORTS[@]}" ] && [ -S "$PF_QUEUE/private/dovecot-lmtp" ] && return 0
		sleep 0.2
	done
	die "the peer stack did not come up ($up of ${#PEER_PORTS[@]} listeners)"
}

# --- Surat: three real processes ---------------------------------------------------------
http_get() { curl -fsS --max-time 2 "http://$1$2" 2>/dev/null; }
json_field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p"; }

start_surat() {
	local i id join
	for i in 0 1 2; do
		id=n$((i + 1))
		join=$(for j in 0 1 2; do if [ "$j" -ne "$i" ]; then printf '127.0.0.1:%s,' "${SURAT_GOSSIP[$j]}"; fi; done)
		local args=(serve --id "$id" --data "$STATE/$id" --raft "127.0.0.1:${SURAT_RAFT[$i]}"
			--gossip "127.0.0.1:${SURAT_GOSSIP[$i]}" --join "${join%,}" --domain example.test
			--smtp "127.0.0.1:${SURAT_SMTP[$i]}" --http "127.0.0.1:${SURAT_HTTP[$i]}" --resolver none)
		[ "$i" -eq 0 ] && args+=(--bootstrap-expect 3)
		"$SURAT" "${args[@]}" >"$STATE/$id.log" 2>&1 &
		SURAT_PIDS+=($!)
	done
	local leader l ok
	for _ in $(seq 300); do
		ok=1 leader=
		for i in 0 1 2; do
			kill -0 "${SURAT_PIDS[$i]}" 2>/dev/null || die "n$((i + 1)) exited (see its log above)"
			http_get "127.0.0.1:${SURAT_HTTP[$i]}" /readyz >/dev/null || { ok=0; break; }
			l=$(http_get "127.0.0.1:${SURAT_HTTP[$i]}" /v1/cluster | json_field leader)
			if [ -z "$l" ] || { [ -n "$leader" ] && [ "$l" != "$leader" ]; }; then ok=0; break; fi
			leader=$l
		done
		[ "$ok" = 1 ] && { say "Surat cluster ready, leader $leader"; return 0; }
		sleep 0.1
	done
	die "the Surat cluster did not settle within 30 s"
}

# wait_digests: every node at the same applied index with the same digest (bounded).
wait_digests() {
	local i d first all
	for _ in $(seq 300); do
		first= all=1
		for i in 0 1 2; do
			d=$(http_get "127.0.0.1:${SURAT_HTTP[$i]}" /v1/digest | tr -d ' \n')
			[ -n "$d" ] || { all=0; break; }
			if [ -z "$first" ]; then first=$d; elif [ "$d" != "$first" ]; then all=0; break; fi
		done
		[ "$all" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_queue_empty: Postfix has nothing left in its queue (bounded).
wait_queue_empty() {
	for _ in $(seq 300); do [ -z "$(queue_files)" ] && return 0; sleep 0.1; done
	return 1
}

PEER=${PEER:-1}
if [ "$PEER" = 1 ]; then
	say "starting Postfix → Dovecot LMTP (bench/peers) on 127.0.0.1"
	start_peer
fi
say "starting three Surat nodes ($SURAT)"
start_surat
printf 'pass\n' | "$SURAT" user add "$RCPT" --password-stdin --server "http://127.0.0.1:${SURAT_HTTP[0]}" >/dev/null
wait_digests || die "the nodes' digests did not converge after the user was added"

if [ "$PEER" = 1 ]; then
	PF_PID=$(tr -dc 0-9 <"$PF_PIDFILE")
	DV_PID=$(tr -dc 0-9 <"$PEER_STATE/run/master.pid")
fi
SMTP_ADDRS=$(printf '127.0.0.1:%s,' "${SURAT_SMTP[@]}")
SMTP_ADDRS=${SMTP_ADDRS%,}
METRICS=$(printf 'http://127.0.0.1:%s/metrics,' "${SURAT_HTTP[@]}")
METRICS=${METRICS%,}
TLS_FLAG=()
[ "$STARTTLS" = 1 ] && TLS_FLAG=(-starttls)
ONE_SOURCE=${ONE_SOURCE:-0}
JSONL=$STATE/results.jsonl
MAILDIRS="$PEER_STATE/mail/example.test/*/Maildir/new"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
FSYNC_MS=$(cd "$STATE" && dd if=/dev/zero of=fsync.probe bs=4k count=500 oflag=dsync 2>&1 |
	sed -n 's/.* copied, \([0-9.]*\) s.*/\1/p' | awk '{printf "%.3f", $1 * 1000 / 500}')
rm -f "$STATE/fsync.probe"

for round in $(seq "$ROUNDS"); do
	for c in $LEVELS; do
		say "round $round/$ROUNDS, $c senders: Surat"
		src=(-sources "$c")
		[ "$ONE_SOURCE" = 1 ] && src=()
		samples=()
		[ -n "${SAMPLES_DIR:-}" ] && mkdir -p "$SAMPLES_DIR" && samples=(-samples "$SAMPLES_DIR/surat-$c-$round.csv")
		"$LOAD" run -label surat -addr "$SMTP_ADDRS" -senders "$c" -messages "$MESSAGES" \
			-duration "$DURATION" -to "$RCPT" "${TLS_FLAG[@]}" "${src[@]}" "${samples[@]}" -metrics "$METRICS" \
			-proc "n1=${SURAT_PIDS[0]}" -proc "n2=${SURAT_PIDS[1]}" -proc "n3=${SURAT_PIDS[2]}" \
			-note "round $round" -out "$JSONL"
		wait_digests || die "the Surat nodes' digests differ after the run"
		[ "$PEER" = 1 ] || continue
		say "round $round/$ROUNDS, $c senders: Postfix → Dovecot"
		wait_queue_empty || die "the Postfix queue did not drain"
		rm -rf "$PEER_STATE/mail/example.test"
		sync
		[ -n "${SAMPLES_DIR:-}" ] && samples=(-samples "$SAMPLES_DIR/postfix-$c-$round.csv")
		"$LOAD" run -label postfix -addr "$PEER_SMTP" -senders "$c" -messages "$MESSAGES" \
			-duration "$DURATION" -to "$RCPT" "${TLS_FLAG[@]}" "${src[@]}" "${samples[@]}" -maildir "$MAILDIRS" \
			-proc "postfix=$PF_PID" -proc "dovecot=$DV_PID" -note "round $round" -out "$JSONL"
		sync
	done
done

# --- the report ----------------------------------------------------------------------------
mkdir -p "$RESULTS"
# The source of the binary: SURAT_REV, or the git checkout the binary sits in.
if [ -n "${SURAT_REV:-}" ]; then
	commit=$SURAT_REV
else
	bindir=$(dirname "$SURAT")
	commit=$(git -C "$bindir" rev-parse --short HEAD 2>/dev/null || echo "unknown source")
	if [ -n "$(git -C "$bindir" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		commit="$commit plus uncommitted changes"
	fi
fi
{
	echo "# SMTP ingest: Surat vs Postfix → Dovecot LMTP"
	echo
	echo "Written by \`bench/smtp-ingest.sh\` (see bench/README.md)."
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo "| machine | $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Debian $(cat /etc/debian_version 2>/dev/null), Linux $(uname -r) |"
	echo "| disk | a synced 4 KiB write: ${FSYNC_MS} ms (\`dd bs=4k count=500 oflag=dsync\` in the state directory) |"
	echo "| load average | $LOAD_START before the runs, $(cut -d' ' -f1-3 /proc/loadavg) after |"
	echo "| Surat | \`$SURAT\` ($("$SURAT" version 2>/dev/null | head -1)), built from $commit; three \`surat serve\` on loopback, \`--resolver none\`, Raft log fsync on every append |"
	if [ "$PEER" = 1 ]; then
		echo "| peer | Postfix $(postconf -h mail_version) → Dovecot $(dovecot --version | cut -d' ' -f1) LMTP → Maildir, bench/peers (package defaults, fsync on) |"
	else
		echo "| peer | not run (PEER=0) |"
	fi
	echo "| load | $MESSAGES messages a run (bound $DURATION), 4096-byte body, one recipient ($RCPT), a new TCP connection per message, $([ "$STARTTLS" = 1 ] && echo "STARTTLS in every session" || echo "no TLS"), $([ "$ONE_SOURCE" = 1 ] && echo "every sender from 127.0.0.1" || echo "sender i from its own source address 127.0.1.i"); against Surat each sender takes the three nodes' MX in turn, message by message; $ROUNDS rounds of $(echo $LEVELS | sed 's/ /, /g') senders, Surat then Postfix at each level |"
	echo
	"$LOAD" table -in "$JSONL"
} >"$RESULTS/smtp-ingest.md"
cp "$JSONL" "$RESULTS/smtp-ingest.jsonl"
say "wrote $RESULTS/smtp-ingest.md and smtp-ingest.jsonl"
cat "$RESULTS/smtp-ingest.md"
