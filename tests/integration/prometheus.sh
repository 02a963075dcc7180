#!/bin/bash
# prometheus.sh - run a real Prometheus (Debian package `prometheus`) for a test.
#
#   prometheus.sh start DIR TARGET   start Prometheus in DIR on a free 127.0.0.1 port,
#                                    scraping http://TARGET/metrics every second;
#                                    prints the port
#   prometheus.sh wait DIR [SECONDS] wait until the target's last scrape succeeded
#                                    (default 30 s; the first scrape takes a few seconds)
#   prometheus.sh query DIR PROMQL   print the /api/v1/query result JSON
#   prometheus.sh stop DIR           stop it (SIGTERM, then SIGKILL after 10 s)
#
# TARGET is HOST:PORT on loopback only (127.x.x.x, [::1], localhost): tests never scrape
# anything else.  DIR holds prometheus.yml, the TSDB, prometheus.log, prometheus.pid and
# port; it is created if missing and left in place by stop.  Needs curl.
#
# Example:
#   port=$(tests/integration/prometheus.sh start /tmp/prom 127.0.0.1:9464)
#   tests/integration/prometheus.sh wait /tmp/prom
#   tests/integration/prometheus.sh query /tmp/prom 'labstack_build_info'
#   tests/integration/prometheus.sh stop /tmp/prom
set -euo pipefail

die() {
    echo "prometheus.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found in PATH${2:+ ($2)}"
}

# The pid in DIR/prometheus.pid if that process is alive and is a prometheus; else empty.
running_pid() {
    local dir=$1 pid
    [ -f "$dir/prometheus.pid" ] || return 0
    pid=$(cat "$dir/prometheus.pid")
    case $pid in '' | *[!0-9]*) return 0 ;; esac
    # Guard against a reused pid: the process must be the prometheus we started.
    if [ -r "/proc/$pid/cmdline" ] &&
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--storage.tsdb.path=$dir/data"; then
        echo "$pid"
    fi
}

port_of() {
    local dir=$1
    [ -f "$dir/port" ] || die "no Prometheus started in $dir (no $dir/port)"
    cat "$dir/port"
}

check_target() {
    local target=$1
    [[ $target =~ ^(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|\[::1\]|localhost):[0-9]{1,5}$ ]] ||
        die "target '$target' is not HOST:PORT on loopback (127.x.x.x, [::1], localhost)"
}

cmd_start() {
    [ $# -eq 2 ] || usage
    local dir=$1 target=$2 port pid tries
    need prometheus "apt-get install prometheus"
    need promtool "apt-get install prometheus"
    need curl "apt-get install curl"
    check_target "$target"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -z "$(running_pid "$dir")" ] || die "a Prometheus already runs in $dir"

    cat >"$dir/prometheus.yml" <<EOF
# Written by tests/integration/prometheus.sh
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: labstack
    metrics_path: /metrics
    static_configs:
      - targets: ['$target']
EOF
    promtool check config "$dir/prometheus.yml" >"$dir/promtool.log" 2>&1 ||
        die "promtool rejects $dir/prometheus.yml: $(cat "$dir/promtool.log")"

    # A random high port; if another process holds it, Prometheus exits at once and we
    # try another.
    for tries in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 40000))
        rm -f "$dir/port"
        prometheus \
            --config.file="$dir/prometheus.yml" \
            --storage.tsdb.path="$dir/data" \
            --storage.tsdb.retention.time=1d \
            --web.listen-address="127.0.0.1:$port" \
            --log.level=info \
            </dev/null >"$dir/prometheus.log" 2>&1 &
        pid=$!
        echo "$pid" >"$dir/prometheus.pid"
        # Ready when /-/ready says so (TSDB opened, config loaded): at most 30 s.
        for _ in $(seq 1 300); do
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            if curl -fsS -o /dev/null "http://127.0.0.1:$port/-/ready" 2>/dev/null; then
                echo "$port" >"$dir/port"
                echo "$port"
                return 0
            fi
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
            die "Prometheus did not become ready in 30 s; see $dir/prometheus.log"
        fi
        wait "$pid" 2>/dev/null || true
        grep -q 'address already in use' "$dir/prometheus.log" ||
            die "Prometheus exited: $(tail -n 5 "$dir/prometheus.log")"
    done
    die "no free port after $tries tries"
}

cmd_wait() {
    { [ $# -ge 1 ] && [ $# -le 2 ]; } || usage
    local dir=$1 timeout=${2:-30} port deadline targets
    port=$(port_of "$dir")
    deadline=$((SECONDS + timeout))
    while [ $SECONDS -lt $deadline ]; do
        targets=$(curl -fsS "http://127.0.0.1:$port/api/v1/targets?state=active" 2>/dev/null || true)
        case $targets in *'"health":"up"'*) return 0 ;; esac
        sleep 0.5
    done
    die "target not up after ${timeout}s: ${targets:-no answer from Prometheus}"
}

cmd_query() {
    [ $# -eq 2 ] || usage
    local dir=$1 promql=$2 port
    port=$(port_of "$dir")
    curl -fsS -G --data-urlencode "query=$promql" "http://127.0.0.1:$port/api/v1/query"
    echo
}

cmd_stop() {
    [ $# -eq 1 ] || usage
    local dir=$1 pid
    pid=$(running_pid "$dir")
    if [ -n "$pid" ]; then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$dir/prometheus.pid" "$dir/port"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
start) cmd_start "$@" ;;
wait) cmd_wait "$@" ;;
query) cmd_query "$@" ;;
stop) cmd_stop "$@" ;;
*) usage ;;
esac
