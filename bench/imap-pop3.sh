#!/usr/bin/env bash
# IMAP and POP3: Surat (three `surat serve` processes, fsync on) against Dovecot (Debian's
# package, configured from bench/peers), the same mailboxes and the same load in one run.
# See bench/README.md.
#
# It starts Dovecot (IMAP 11143, POP3 11110; no Postfix) and a three-node Surat cluster, fills
# both with identical 4 KiB messages (bench/imapload: u100 10,000 messages, u99 1,000, u1..u50
# 200 each; over IMAP APPEND, but u100's maildir on Dovecot is written directly), then measures with bench/cmd/imapload, warm (one warm-up round
# first), median of ROUNDS:
#   - one client on u100's 10,000-message INBOX: connect+login, SELECT, UID FETCH 1:* (FLAGS
#     RFC822.SIZE ENVELOPE), UID FETCH 1:* (BODY.PEEK[]), UID SEARCH HEADER Subject <word>,
#     UID SEARCH BODY <word>;
#   - POP3: connect+login+STAT and UIDL on u100 (10,000), then RETR of all 1,000 of u99 on one
#     connection;
#   - the mixed workload: CLIENTS persistent clients over u1..u50 for MIXED_DURATION, each
#     looping SELECT, FETCH, STORE, STORE, EXPUNGE, APPEND (ops/s per command);
#   - idle connections on one Surat node (IDLE_N, logged in, INBOX selected, IDLE): the node's
#     RSS and Go heap per connection.
# The fill retries an APPEND answered NO [UNAVAILABLE] (or whose connection broke) with backoff,
# as a client would, and counts the retries (in the report).
# Surat refuses LOGIN/USER before TLS, so Surat is measured over STARTTLS/STLS; Dovecot both
# plaintext (as the peer recipe's reference figures were measured) and over STARTTLS/STLS
# (the fair comparison). It writes bench/results/imap-pop3.md (and .jsonl), and stops and
# removes everything it started on every exit path.
#
# Needs root (apt-get, Dovecot, ulimit) and Linux. Installs what is missing.
# Environment (defaults in brackets):
#   SURAT_BIN [bin/surat]   the binary to measure      GO [go]
#   ROUNDS [3]              measured rounds of the single-client commands (after 1 warm-up)
#   BIG [10000]             messages in u100's INBOX   SMALL [1000]  messages in u99's (POP3 RETR)
#   PER_USER [200]          messages in each of u1..u50
#   CLIENTS [20]            mixed-workload clients     MIXED_DURATION [30s]
#   IDLE_N [1000,10000]     idle-connection counts ("" to skip)
#   SURAT_REV               what to call the binary's source in the report (default: the
#                           commit of the git checkout that holds SURAT_BIN)
#   RESULTS [bench/results] KEEP_STATE [0]  1: keep the temp dir
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
GO=${GO:-go}
SURAT=${SURAT_BIN:-$ROOT/bin/surat}
ROUNDS=${ROUNDS:-3}
BIG=${BIG:-10000}
SMALL=${SMALL:-1000}
PER_USER=${PER_USER:-200}
CLIENTS=${CLIENTS:-20}
MIXED_DURATION=${MIXED_DURATION:-30s}
IDLE_N=${IDLE_N-1000,10000}
RESULTS=${RESULTS:-$BENCH_DIR/results}
KEEP_STATE=${KEEP_STATE:-0}

# Loopback ports. Surat: Raft, gossip (TCP and UDP), HTTP, MX, IMAP, POP3 of n1..n3 (apart
# from smtp-ingest.sh's, so that a clash is a refusal, not a mix-up).
SURAT_RAFT=(17011 17012 17013)
SURAT_GOSSIP=(17111 17112 17113)
SURAT_HTTP=(17211 17212 17213)
SURAT_SMTP=(12611 12612 12613)
SURAT_IMAP=(11431 11432 11433)
SURAT_POP3=(11101 11102 11103)
# Dovecot (bench/peers/dovecot.conf.in): IMAP, IMAPS, POP3, POP3S, LMTP.
PEER_PORTS=(11143 11993 11110 11995 12424)
PEER_IMAP=127.0.0.1:11143
PEER_POP3=127.0.0.1:11110
BIG_USER=u100@example.test
SMALL_USER=u99@example.test
MIX_USERS=$(for i in $(seq 50); do printf 'u%d@example.test,' "$i"; done)
MIX_USERS=${MIX_USERS%,}

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'imap-pop3.sh: %s\n' "$*" >&2; exit 1; }

[ "$(uname -s)" = Linux ] || die "needs Linux (/proc, Debian's packages)"
[ "$(id -u)" -eq 0 ] || die "needs root: it installs and runs Dovecot and raises the file limit"
[ -x "$SURAT" ] || die "no $SURAT: run make build, or set SURAT_BIN"

# --- refuse to run next to anything that uses our ports ---------------------------------
all_tcp=("${SURAT_RAFT[@]}" "${SURAT_GOSSIP[@]}" "${SURAT_HTTP[@]}" "${SURAT_SMTP[@]}" "${SURAT_IMAP[@]}"
	"${SURAT_POP3[@]}" "${PEER_PORTS[@]}")
busy=$( { ss -Htln; ss -Huln; } | awk '{print $4}' | sed 's/.*://' | sort -u)
for p in "${all_tcp[@]}"; do
	if grep -qx "$p" <<<"$busy"; then
		ss -tulnp | grep -E ":$p\b" >&2 || true
		die "port $p is in use: stop what listens there first"
	fi
done

# Idle connections: client and server sockets are on this machine, 2 per connection.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# --- install the peer if missing (the same packages as smtp-ingest.sh) --------------------
if ! command -v dovecot >/dev/null || [ ! -x /usr/lib/dovecot/imap ] || [ ! -x /usr/lib/dovecot/pop3 ] ||
	[ ! -x /usr/lib/dovecot/lmtp ] || ! command -v postfix >/dev/null || ! command -v openssl >/dev/null; then
	say "installing dovecot-imapd, dovecot-pop3d, dovecot-lmtpd, postfix, openssl"
	apt-get update -qq
	echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
	echo "postfix postfix/mailname string peer.example.test" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
		dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix openssl >/dev/null
fi
id vmail >/dev/null 2>&1 || useradd -r -u 5000 -U -d /nonexistent -s /usr/sbin/nologin vmail
getent group dovecot >/dev/null || die "no group dovecot (is dovecot-core installed?)"

# --- state and cleanup ----------------------------------------------------------------------
STATE=$(mktemp -d "${TMPDIR:-/tmp}/surat-imap-pop3.XXXXXX")
chmod 755 "$STATE" # traversed by vmail, dovecot and dovenull
PEER_STATE=$STATE/peer
SURAT_PIDS=()
BG_PIDS=()
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
	for pid in "${BG_PIDS[@]}"; do stop_pid "$pid"; done
	for pid in "${SURAT_PIDS[@]}"; do stop_pid "$pid"; done
	for pid in "${SURAT_PIDS[@]}" "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	if [ "$PEER_STARTED" = 1 ]; then
		local dv
		dv=$(tr -dc 0-9 <"$PEER_STATE/run/master.pid" 2>/dev/null)
		dovecot -c "$PEER_STATE/dovecot.conf" stop >/dev/null 2>&1
		for _ in $(seq 100); do
			{ [ -n "$dv" ] && kill -0 "$dv" 2>/dev/null; } || break
			sleep 0.1
		done
		[ -n "$dv" ] && kill -0 "$dv" 2>/dev/null && kill -KILL "$dv"
	fi
	if [ "$rc" -ne 0 ]; then
		for f in "$STATE"/n?.log "$PEER_STATE/dovecot.log"; do
			[ -s "$f" ] && { echo "--- tail of $f" >&2; tail -n 15 "$f" >&2; }
		done
	fi
	if [ "$KEEP_STATE" = 1 ]; then echo "state kept in $STATE" >&2; else rm -rf "$STATE"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T0=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# The load average every 5 s, for the report.
(while :; do printf '%s %s\n' "$(date +%s)" "$(cut -d' ' -f1 /proc/loadavg)"; sleep 5; done) >"$STATE/load.log" &
BG_PIDS+=($!)

say "building the load generator"
(cd "$ROOT" && "$GO" build -o "$STATE/imapload" ./bench/cmd/imapload)
LOAD=$STATE/imapload
JSONL=$STATE/results.jsonl

# --- Dovecot (bench/peers): IMAP and POP3 only; no Postfix ----------------------------------
start_peer() {
	mkdir -p "$PEER_STATE/run" "$PEER_STATE/ssl" "$PEER_STATE/mail" "$PEER_STATE/pfq/private"
	chmod 755 "$PEER_STATE" "$PEER_STATE/run"
	chown vmail:vmail "$PEER_STATE/mail"
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=mail.example.test" \
		-keyout "$PEER_STATE/ssl/key.pem" -out "$PEER_STATE/ssl/cert.pem" 2>/dev/null
	chmod 600 "$PEER_STATE/ssl/key.pem"
	install -o root -g dovecot -m 640 "$BENCH_DIR/peers/users.passwd" "$PEER_STATE/users.passwd"
	local esc_state esc_queue
	esc_state=$(printf '%s' "$PEER_STATE" | sed -e 's/[\\|&]/\\&/g')
	# The LMTP socket (unused here) goes into the state directory, not Postfix's queue.
	esc_queue=$(printf '%s' "$PEER_STATE/pfq" | sed -e 's/[\\|&]/\\&/g')
	sed -e "s|@PEER_STATE@|$esc_state|g" -e "s|@POSTFIX_QUEUE@|$esc_queue|g" \
		"$BENCH_DIR/peers/dovecot.conf.in" >"$PEER_STATE/dovecot.conf"
	PEER_STARTED=1
	dovecot -c "$PEER_STATE/dovecot.conf"
	local up
	for _ in $(seq 50); do
		up=$(ss -Htln | awk '{print $4}' | grep -cE "^127\.0\.0\.1:($(IFS='|'; echo "${PEER_PORTS[*]}"))$" || true)
		[ "$up" -eq "${#PEER_PORTS[@]}" ] && return 0
		sleep 0.2
	done
	die "Dovecot did not come up ($up of ${#PEER_PORTS[@]} listeners)"
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
			--smtp "127.0.0.1:${SURAT_SMTP[$i]}" --imap "127.0.0.1:${SURAT_IMAP[$i]}"
			--pop3 "127.0.0.1:${SURAT_POP3[$i]}" --http "127.0.0.1:${SURAT_HTTP[$i]}" --resolver none)
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
		[ "$ok" = 1 ] && { say "Surat cluster ready, leader $leader"; LEADER=$leader; return 0; }
		sleep 0.1
	done
	die "the Surat cluster did not settle within 30 s"
}

# wait_digests: every node at the same applied index with the same digest (bounded).
wait_digests() {
	local i d first all
	for _ in $(seq 600); do
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

say "starting Dovecot (bench/peers) on 127.0.0.1: IMAP 11143, POP3 11110"
start_peer
DV_PID=$(tr -dc 0-9 <"$PEER_STATE/run/master.pid")
say "starting three Surat nodes ($SURAT)"
start_surat
say "creating users on Surat (u1..u50, u99, u100)"
for u in $(tr , ' ' <<<"$MIX_USERS") "$SMALL_USER" "$BIG_USER"; do
	printf 'pass\n' | "$SURAT" user add "$u" --password-stdin --server "http://127.0.0.1:${SURAT_HTTP[$((RANDOM % 3))]}" >/dev/null
done
wait_digests || die "the nodes' digests did not converge after the users were added"

SURAT_IMAP_ADDRS=$(printf '127.0.0.1:%s,' "${SURAT_IMAP[@]}")
SURAT_IMAP_ADDRS=${SURAT_IMAP_ADDRS%,}
SURAT_PROCS=(-proc "n1=${SURAT_PIDS[0]}" -proc "n2=${SURAT_PIDS[1]}" -proc "n3=${SURAT_PIDS[2]}")
PEER_PROCS=(-proc "dovecot=$DV_PID")

# --- fill both, at once (not measured) --------------------------------------------------------
# Identical message bytes on both (bench/imapload.Message). Surat over IMAP APPEND (STARTTLS,
# connections spread over the three nodes; every APPEND is a Raft commit). Dovecot over
# APPEND (plaintext), except u100's 10,000, written straight into its Maildir as Dovecot
# itself stores an APPEND (LF line endings, S= and W= in the name): APPENDs into a growing
# maildir went at ~230/s here (each re-syncs the directory), 45 s of a 6-minute budget. Dovecot
# indexes those files at its first SELECT, in the warm-up round.
fill() { # label addrs tls-flag...
	local label=$1 addrs=$2
	shift 2
	if [ "$label" = surat ]; then
		"$LOAD" fill -label "$label" -addr "$addrs" "$@" -users "$BIG_USER" -messages "$BIG" -conns 12 -out "$JSONL" || return 1
	else
		# mail/example.test/u100/Maildir, made here (as root): all of it vmail's, as Dovecot's own.
		"$LOAD" maildir -dir "$PEER_STATE/mail/example.test/${BIG_USER%@*}/Maildir" -user "$BIG_USER" -messages "$BIG" &&
			chown -R vmail:vmail "$PEER_STATE/mail/example.test" || return 1
	fi
	"$LOAD" fill -label "$label" -addr "$addrs" "$@" -users "$SMALL_USER" -messages "$SMALL" -conns 6 -out "$JSONL" &&
		"$LOAD" fill -label "$label" -addr "$addrs" "$@" -users "$MIX_USERS" -messages "$PER_USER" -conns 12 -out "$JSONL"
}
say "filling both: $BIG_USER $BIG, $SMALL_USER $SMALL, u1..u50 $PER_USER each (4 KiB messages)"
T_FILL=$(date +%s)
fill surat "$SURAT_IMAP_ADDRS" -starttls 2>"$STATE/fill-surat.log" &
FILL_S=$!
BG_PIDS+=($FILL_S)
fill dovecot "$PEER_IMAP" 2>"$STATE/fill-dovecot.log" &
FILL_D=$!
BG_PIDS+=($FILL_D)
wait "$FILL_S" || { cat "$STATE/fill-surat.log" >&2; die "filling Surat failed"; }
wait "$FILL_D" || { cat "$STATE/fill-dovecot.log" >&2; die "filling Dovecot failed"; }
cat "$STATE/fill-surat.log" "$STATE/fill-dovecot.log" >&2
wait_digests || die "the Surat nodes' digests differ after the fill"
FILL_S_TOTAL=$(($(date +%s) - T_FILL))
sync

# --- single-client commands, then POP3 ---------------------------------------------------
STATIC_NODE=n1
say "single commands on $BIG_USER: Surat ($STATIC_NODE, STARTTLS), Dovecot plaintext, Dovecot STARTTLS"
"$LOAD" static -label surat -addr "127.0.0.1:${SURAT_IMAP[0]}" -starttls -user "$BIG_USER" -rounds "$ROUNDS" \
	"${SURAT_PROCS[@]}" -note "node $STATIC_NODE" -out "$JSONL"
"$LOAD" static -label dovecot -addr "$PEER_IMAP" -user "$BIG_USER" -rounds "$ROUNDS" "${PEER_PROCS[@]}" -out "$JSONL"
"$LOAD" static -label dovecot -addr "$PEER_IMAP" -starttls -user "$BIG_USER" -rounds "$ROUNDS" "${PEER_PROCS[@]}" -out "$JSONL"

say "POP3: UIDL on $BIG_USER, RETR of $SMALL_USER's $SMALL"
"$LOAD" pop3 -label surat -addr "127.0.0.1:${SURAT_POP3[0]}" -starttls -big-user "$BIG_USER" -small-user "$SMALL_USER" \
	-rounds "$ROUNDS" "${SURAT_PROCS[@]}" -note "node $STATIC_NODE" -out "$JSONL"
"$LOAD" pop3 -label dovecot -addr "$PEER_POP3" -big-user "$BIG_USER" -small-user "$SMALL_USER" -rounds "$ROUNDS" \
	"${PEER_PROCS[@]}" -out "$JSONL"
"$LOAD" pop3 -label dovecot -addr "$PEER_POP3" -starttls -big-user "$BIG_USER" -small-user "$SMALL_USER" -rounds "$ROUNDS" \
	"${PEER_PROCS[@]}" -out "$JSONL"
wait_digests || die "the Surat nodes' digests differ after POP3"

# --- the mixed workload ------------------------------------------------------------------
say "mixed workload: $CLIENTS clients over u1..u50, $MIXED_DURATION each (after a 5 s warm-up)"
"$LOAD" mixed -label surat -addr "$SURAT_IMAP_ADDRS" -starttls -users "$MIX_USERS" -clients "$CLIENTS" \
	-duration "$MIXED_DURATION" "${SURAT_PROCS[@]}" -note "clients spread over n1..n3" -out "$JSONL"
wait_digests || die "the Surat nodes' digests differ after the mixed workload"
"$LOAD" mixed -label dovecot -addr "$PEER_IMAP" -users "$MIX_USERS" -clients "$CLIENTS" \
	-duration "$MIXED_DURATION" "${PEER_PROCS[@]}" -out "$JSONL"
"$LOAD" mixed -label dovecot -addr "$PEER_IMAP" -starttls -users "$MIX_USERS" -clients "$CLIENTS" \
	-duration "$MIXED_DURATION" "${PEER_PROCS[@]}" -out "$JSONL"

# --- idle connections on one node --------------------------------------------------------
IDLE_NODE=2
if [ -n "$IDLE_N" ]; then
	role=$(http_get "127.0.0.1:${SURAT_HTTP[$((IDLE_NODE - 1))]}" /v1/cluster | json_field leader)
	[ "$role" = "n$IDLE_NODE" ] && role=leader || role=follower
	say "idle connections on n$IDLE_NODE ($role): $IDLE_N (file limit $(ulimit -n))"
	"$LOAD" idle -label surat -addr "127.0.0.1:${SURAT_IMAP[$((IDLE_NODE - 1))]}" -starttls -users "$MIX_USERS" \
		-n "$IDLE_N" -sources 120 -concurrency 4 -pid "${SURAT_PIDS[$((IDLE_NODE - 1))]}" \
		-metrics "http://127.0.0.1:${SURAT_HTTP[$((IDLE_NODE - 1))]}/metrics" -note "node n$IDLE_NODE ($role)" -out "$JSONL"
fi
wait_digests || die "the Surat nodes' digests differ at the end"

# --- the report ----------------------------------------------------------------------------
mkdir -p "$RESULTS"
if [ -n "${SURAT_REV:-}" ]; then
	commit=$SURAT_REV
else
	bindir=$(dirname "$SURAT")
	commit=$(git -C "$bindir" rev-parse --short HEAD 2>/dev/null || echo "unknown source")
	if [ -n "$(git -C "$bindir" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		commit="$commit plus uncommitted changes"
	fi
fi
load_during=$(awk '{print $2}' "$STATE/load.log" | sort -n | sed -n '1p;$p' | paste -sd' ' | awk '{printf "%s–%s", $1, $2}')
{
	echo "# IMAP and POP3: Surat vs Dovecot"
	echo
	echo "Written by \`bench/imap-pop3.sh\` (see bench/README.md)."
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC'), $(($(date +%s) - T0)) s in all (the fill: $FILL_S_TOTAL s) |"
	echo "| machine | $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Debian $(cat /etc/debian_version 2>/dev/null), Linux $(uname -r) |"
	echo "| load average | $LOAD_START before; 1-min load $load_during during the run (sampled every 5 s); $(cut -d' ' -f1-3 /proc/loadavg) after |"
	echo "| Surat | \`$SURAT\` ($("$SURAT" version 2>/dev/null | head -1)), built from $commit; three \`surat serve\` on loopback, leader $LEADER, Raft log fsync on every append; single-client commands and POP3 on n1, the mixed workload's clients on n1, n2, n3 in turn (reads are local, every write is a Raft commit on a quorum), idle connections on n$IDLE_NODE |"
	echo "| peer | Dovecot $(dovecot --version | cut -d' ' -f1), bench/peers/dovecot.conf.in (package defaults, maildir, mail_fsync=optimized, imap-login service_count=1) |"
	echo "| mailboxes | filled over IMAP APPEND (Dovecot's $BIG_USER: files written into its Maildir, indexed by the warm-up SELECT), identical bytes on both: $BIG_USER $BIG messages, $SMALL_USER $SMALL, u1..u50 $PER_USER each; 4,096-byte text/plain body + ~330 bytes of header; 1 in 100 has \`kumquat\` in its Subject, 1 in 100 \`zeppelin\` in its body |"
	echo "| client | \`bench/cmd/imapload\` (go-imap v2 client; POP3: its own), one process, on the same machine |"
	echo
	echo "Ratios are speed ratios, Surat over Dovecot (Dovecot's time / Surat's time; ops/s Surat / ops/s Dovecot): ≥ 1.00 means Surat is at least as fast. Surat is always over TLS (it refuses LOGIN and USER/PASS without it); **the fair comparison is the STARTTLS column**, the plaintext one is how the peer recipe's reference figures were measured."
	echo
	"$LOAD" table -in "$JSONL"
} >"$RESULTS/imap-pop3.md"
cp "$JSONL" "$RESULTS/imap-pop3.jsonl"
say "wrote $RESULTS/imap-pop3.md and imap-pop3.jsonl ($(($(date +%s) - T0)) s)"
cat "$RESULTS/imap-pop3.md"
