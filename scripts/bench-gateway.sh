#!/usr/bin/env bash
# bench-gateway.sh measures the latency keywatch's gateway adds to a request
# over a direct call to the same local upstream, in the same run as nginx
# (Debian's package) proxying to that upstream, at constant request rates.
#
# It builds scripts/loadgen, starts on loopback ports: a minimal upstream
# (a fixed chat completion with usage), nginx (generated config, keepalive
# upstream connections, access_log off), the gateway as keywatch gateway run
# sets it up (its event loops, Gateway.ServeEvents; its GC setting
# gateway.TuneGC, a SQLite store, one issued key, MemoryState, a no-op
# sink), the same gateway on fasthttp's server (gateway-fasthttp,
# Gateway.Serve) and on net/http's server as serve runs it
# (gateway-nethttp), and three floors: bare reverse proxies without
# keywatch's checks on net/http (goproxy), on fasthttp (fastproxy) and on
# one gnet event loop (gnetproxy, nginx's shape).
# Then, for each round, rate and path, it runs an open-loop load for
# DURATION after WARMUP and prints the table (loadgen report).
#
# It also reports each proxy's CPU time per request, read from /proc.
#
# Pinning (2 cores): the load generator on LOADGEN_CPU; the upstream and
# whichever proxy is under test on SERVER_CPU, each Go server with
# GOMAXPROCS=1 and nginx with one worker.
#
# Environment: RATES ("1000 5000"), DURATION (10s), WARMUP (2s), ROUNDS (1),
# PATHS ("direct nginx fastproxy gateway"; also goproxy, gnetproxy,
# gateway-fasthttp and gateway-nethttp), LOADGEN_CPU (0),
# SERVER_CPU (1), PROFILE (1: also profile the gateway at the highest rate
# and print pprof -top), OUTDIR (keep results.tsv and the profile there).
#
# On a noisy machine, many short rounds interleave the paths so that a
# burst of noise hits them alike (BENCHMARKS.md):
#   RATES="5000 1000" ROUNDS=15 DURATION=3s WARMUP=1s PATHS="direct nginx gnetproxy gateway"
#
# A benchmark, never run in CI: it installs nginx and takes minutes.
set -euo pipefail

if [[ -n "${CI:-}" ]]; then
	echo "bench-gateway.sh: a benchmark; not run in CI" >&2
	exit 0
fi

RATES=${RATES:-"1000 5000"}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-1}
PATHS=${PATHS:-"direct nginx fastproxy gateway"}
LOADGEN_CPU=${LOADGEN_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
PROFILE=${PROFILE:-0}
OUTDIR=${OUTDIR:-}

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d -t kwbench.XXXXXX)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v nginx >/dev/null; then
	echo "installing nginx" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
NGINX=$(command -v nginx)

echo "building loadgen" >&2
(cd "$root" && go build -o "$tmp/loadgen" ./scripts/loadgen)
lg="$tmp/loadgen"

# start NAME CMD...: runs CMD pinned to SERVER_CPU in the background and
# waits for its "listening ADDR" line; sets $addr.
declare -A pid_of # path: the process whose CPU time it costs
start() {
	local name=$1
	shift
	GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=($!)
	pid_of[$name]=$!
	for _ in $(seq 100); do
		if addr=$(awk '/^listening /{print $2; exit}' "$tmp/$name.out") && [[ -n "$addr" ]]; then
			return 0
		fi
		sleep 0.1
	done
	echo "$name did not start:" >&2
	cat "$tmp/$name.err" >&2
	exit 1
}

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		if ! ss -Hltn "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
}

start upstream "$lg" upstream -listen 127.0.0.1:0
up=$addr
mkdir -p "$tmp/gw" "$tmp/gwf" "$tmp/gwn"
start gateway "$lg" gateway -listen 127.0.0.1:0 -upstream "http://$up" -dir "$tmp/gw"
gw=$addr
start gateway-fasthttp "$lg" gateway -listen 127.0.0.1:0 -upstream "http://$up" -dir "$tmp/gwf" -front fasthttp
gwf=$addr
start gateway-nethttp "$lg" gateway -listen 127.0.0.1:0 -upstream "http://$up" -dir "$tmp/gwn" -front nethttp
gwn=$addr
start goproxy "$lg" goproxy -listen 127.0.0.1:0 -upstream "http://$up"
gop=$addr
start fastproxy "$lg" fastproxy -listen 127.0.0.1:0 -upstream "http://$up"
fap=$addr
start gnetproxy "$lg" gnetproxy -listen 127.0.0.1:0 -upstream "http://$up"
gnp=$addr

ngport=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	upstream kwupstream {
		server $up;
		keepalive 64;
	}
	server {
		listen 127.0.0.1:$ngport;
		location / {
			proxy_pass http://kwupstream;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
CONF
taskset -c "$SERVER_CPU" "$NGINX" -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
for _ in $(seq 50); do
	curl -fsS -o /dev/null "http://127.0.0.1:$ngport/v1/chat/completions" -d '{}' 2>/dev/null && break
	sleep 0.1
done
pid_of[nginx]=$(pgrep -P "${pids[-1]}" | head -1) # its one worker

url_of() {
	case $1 in
	direct) echo "http://$up" ;;
	nginx) echo "http://127.0.0.1:$ngport" ;;
	gateway) echo "http://$gw" ;;
	gateway-fasthttp) echo "http://$gwf" ;;
	gateway-nethttp) echo "http://$gwn" ;;
	goproxy) echo "http://$gop" ;;
	fastproxy) echo "http://$fap" ;;
	gnetproxy) echo "http://$gnp" ;;
	*) echo "unknown path $1" >&2; exit 1 ;;
	esac
}
key_of() {
	case $1 in
	gateway) echo "$tmp/gw/key" ;;
	gateway-fasthttp) echo "$tmp/gwf/key" ;;
	gateway-nethttp) echo "$tmp/gwn/key" ;;
	*) echo "" ;;
	esac
}

# cpu_ticks PID: the process's user and system CPU time, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
secs() { [[ $1 =~ ^([0-9]+)s$ ]] && echo "${BASH_REMATCH[1]}"; }
hz=$(getconf CLK_TCK)

# load PATH RATE [OUT] runs the load; for paths with a process of their own
# (not direct) it also appends the proxy's CPU µs per request (user +
# system, warm-up included) to cpu.tsv.
load() {
	local kf pid=${pid_of[$1]:-} t0=0 t1 n
	kf=$(key_of "$1")
	[[ -n $pid ]] && t0=$(cpu_ticks "$pid")
	GOMAXPROCS=2 taskset -c "$LOADGEN_CPU" "$lg" load -url "$(url_of "$1")" ${kf:+-key-file "$kf"} \
		-rate "$2" -duration "$DURATION" -warmup "$WARMUP" -label "$1" -out "${3:-$tmp/results.tsv}"
	if [[ -n $pid && -n $(secs "$DURATION") && -n $(secs "$WARMUP") ]]; then
		t1=$(cpu_ticks "$pid")
		n=$(($2 * ($(secs "$DURATION") + $(secs "$WARMUP"))))
		printf '%s\t%s\t%s\n' "$1" "$2" "$(((t1 - t0) * 1000000 / hz / n))" >>"$tmp/cpu.tsv"
	fi
}

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $(go version | cut -d' ' -f3); $($NGINX -v 2>&1)" >&2
for round in $(seq "$ROUNDS"); do
	for rate in $RATES; do
		for path in $PATHS; do
			echo "round $round: $path at $rate req/s" >&2
			load "$path" "$rate"
		done
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo
"$lg" report "$tmp/results.tsv"
if [[ -s "$tmp/cpu.tsv" ]]; then
	echo
	echo "CPU µs per request of the proxy process (user + system, from /proc; one figure per round):"
	sort -k2,2n -k1,1 -s "$tmp/cpu.tsv" | awk -F'\t' '{k = $1 " at " $2 " req/s"; if (k != last) { if (last != "") print line; line = k ":"; last = k } line = line " " $3} END { print line }'
fi

if [[ "$PROFILE" == 1 ]]; then
	top_rate=$(tr ' ' '\n' <<<"$RATES" | sort -n | tail -1)
	for variant in gateway gateway-fasthttp gateway-nethttp; do
		mkdir -p "$tmp/prof-$variant"
		extra=(-front "${variant#gateway-}")
		[[ $variant == gateway ]] && extra=(-front loop)
		start "prof-$variant" "$lg" gateway -listen 127.0.0.1:0 -upstream "http://$up" -dir "$tmp/prof-$variant" \
			-cpuprofile "$tmp/$variant.pprof" "${extra[@]}"
		ppid=${pids[-1]}
		kf="$tmp/prof-$variant/key"
		GOMAXPROCS=2 taskset -c "$LOADGEN_CPU" "$lg" load -url "http://$addr" -key-file "$kf" -rate "$top_rate" \
			-duration "$DURATION" -warmup "$WARMUP" -label "$variant" -out "$tmp/profile-run.tsv"
		kill "$ppid"
		wait "$ppid" 2>/dev/null || true
		echo
		echo "CPU profile of $variant at $top_rate req/s (go tool pprof -top):"
		(cd "$root" && go tool pprof -top -nodecount=30 "$tmp/$variant.pprof" 2>/dev/null)
		echo
		echo "cumulative:"
		(cd "$root" && go tool pprof -top -cum -nodecount=30 "$tmp/$variant.pprof" 2>/dev/null)
	done
fi

if [[ -n "$OUTDIR" ]]; then
	mkdir -p "$OUTDIR"
	cp "$tmp/results.tsv" "$OUTDIR/"
	cp "$tmp/cpu.tsv" "$OUTDIR/" 2>/dev/null || true
	cp "$tmp"/*.pprof "$tmp/loadgen" "$OUTDIR/" 2>/dev/null || true
fi
