#!/usr/bin/env bash
# Start or stop a three-node Surat cluster on loopback, for trying Surat out.
#   deploy/local-cluster.sh start [DATA_DIR]   (default ./data)
#   deploy/local-cluster.sh stop  [DATA_DIR]
# Node i (1..3) listens on: raft 700i, gossip 710i, http 808(i-1),
# smtp 252(4+i), submission 587i, imap 143i, pop3 110i (all 127.0.0.1).
set -euo pipefail
cmd=${1:-start}
data=${2:-./data}
bin=${SURAT_BIN:-bin/surat}
domain=${SURAT_DEMO_DOMAIN:-example.test}
user=demo@$domain

stop() {
  local any=0
  for i in 1 2 3; do
    pidfile="$data/n$i.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -TERM "$pid" 2>/dev/null; then
      any=1
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
  [ $any = 1 ] && echo "cluster in $data stopped" || echo "no cluster running in $data"
}

running() {
  [ -f "$data/n$1.pid" ] && kill -0 "$(cat "$data/n$1.pid")" 2>/dev/null
}

# start launches the nodes that are not running, so after a node was
# killed, 'make run' restarts just that one, on its old data.
start() {
  [ -x "$bin" ] || { echo "no $bin: run 'make build'" >&2; exit 1; }
  mkdir -p "$data"
  for i in 1 2 3; do
    if running $i; then
      echo "n$i already running"
      continue
    fi
    join=()
    for j in 1 2 3; do [ $j = $i ] || join+=("127.0.0.1:710$j"); done
    extra=()
    [ $i = 1 ] && extra=(--bootstrap-expect 3)
    "$bin" serve --id n$i --data "$data/n$i" \
      --raft 127.0.0.1:700$i --gossip 127.0.0.1:710$i \
      --join "$(IFS=,; echo "${join[*]}")" "${extra[@]}" \
      --domain "$domain" \
      --smtp 127.0.0.1:252$((4 + i)) --submission 127.0.0.1:587$i \
      --imap 127.0.0.1:143$i --pop3 127.0.0.1:110$i --managesieve 127.0.0.1:419$i \
      --http 127.0.0.1:808$((i - 1)) --resolver none \
      >>"$data/n$i.log" 2>&1 &
    echo $! >"$data/n$i.pid"
    echo "n$i started"
  done
  printf 'waiting for the cluster'
  for _ in $(seq 1 300); do
    ready=0
    for i in 1 2 3; do
      curl -fsS -o /dev/null "http://127.0.0.1:808$((i - 1))/readyz" 2>/dev/null && ready=$((ready + 1))
    done
    [ $ready = 3 ] && break
    printf .
    sleep 0.2
  done
  echo
  [ $ready = 3 ] || { echo "cluster not ready; see $data/n*.log" >&2; exit 1; }
  pwfile="$data/demo-password"
  if [ ! -f "$pwfile" ]; then
    head -c 12 /dev/urandom | base64 | tr -d '/+=' >"$pwfile"
    "$bin" user add "$user" --password-stdin --server http://127.0.0.1:8080 <"$pwfile"
  fi
  cat <<MSG
Surat is running: three nodes on loopback, data in $data (logs: $data/n*.log).
  cluster     $bin cluster status --server http://127.0.0.1:8080
  demo user   $user, password $(cat "$pwfile")
  node n1     http 127.0.0.1:8080  smtp 127.0.0.1:2525  submission 127.0.0.1:5871  imap 127.0.0.1:1431  pop3 127.0.0.1:1101  managesieve 127.0.0.1:4191
  node n2     http 127.0.0.1:8081  smtp 127.0.0.1:2526  submission 127.0.0.1:5872  imap 127.0.0.1:1432  pop3 127.0.0.1:1102  managesieve 127.0.0.1:4192
  node n3     http 127.0.0.1:8082  smtp 127.0.0.1:2527  submission 127.0.0.1:5873  imap 127.0.0.1:1433  pop3 127.0.0.1:1103  managesieve 127.0.0.1:4193
Stop it with: make stop   (or deploy/local-cluster.sh stop $data)
MSG
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [DATA_DIR]" >&2; exit 2 ;;
esac
