#!/usr/bin/env bash
# HTTP/1.1 hello benchmark: wrk against three servers, one after the other,
# in one run, with ratios against the two baselines.
#
#   bench/http/run.sh [HIO_ADDR_CMD]
#
# Rows:
#   nginx      one worker process, bench/http/nginx.conf (return 200 "hello\n")
#   Python hio bench/http/hello_wsgi.py: hio 0.7.20's WSGI server, real mode,
#              tock 1 ms, run with bench/python-hio/.venv/bin/python
#   hio        $HIO_BIN (default release/hio in cargo's target folder, which
#              `cargo metadata` names: target/, or CARGO_TARGET_DIR)
#              run examples/hello.toml --option hello.addr=127.0.0.1:PORT
#
# With HTTP_BENCH_CREWS=1, four more rows, for crews (a DoDoer with
# crew = true runs its subtree on a thread of its own):
#   nginx x2     the same nginx with two worker processes
#   hio crew x1  the hello doer in one crew (hio run --threads 2)
#   hio crews x2 the hello doer in each of two crews on one port
#                (SO_REUSEPORT: the kernel deals connections to the crews)
# and a line of ratios: two crews against one, and against nginx x2.
#
# HIO_ADDR_CMD, when given, replaces the hio row's command: a shell command
# in which {addr} stands for 127.0.0.1:PORT (and {port} for PORT), run from
# the repository root, e.g.
#   bench/http/run.sh 'target/debug/hio run examples/hello.toml --option hello.addr={addr}'
# A row whose program is missing prints "skipped: <why>".
#
# Environment:
#   HTTP_BENCH_DURATION  wrk -d per server (default 10s)
#   HTTP_BENCH_CONNS     wrk -c, open connections (default 32)
#   HTTP_BENCH_THREADS   wrk -t (default 1: the machine has two cores, one
#                        for wrk and one for the server)
#   HTTP_BENCH_WARMUP    a wrk run before each measured one, not reported
#                        (default 1s; 0 for none)
#   HTTP_BENCH_PY_TOCK   Python hio's tock in seconds (default 0.001)
#
# Each server gets a free port of 127.0.0.1, is waited for (a connect every
# 50 ms, up to 30 s), is checked with one request (curl) and is stopped
# (SIGTERM, then SIGKILL after 5 s) when its row is done; every server still
# running is stopped when the script exits, fails or is interrupted. wrk's
# full output goes to stderr. Exit status 1 when a server that was started
# failed (did not listen, answered wrongly or wrk failed); skipped rows do
# not count.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

duration=${HTTP_BENCH_DURATION:-10s}
conns=${HTTP_BENCH_CONNS:-32}
threads=${HTTP_BENCH_THREADS:-1}
warmup=${HTTP_BENCH_WARMUP:-1s}
py_tock=${HTTP_BENCH_PY_TOCK:-0.001}
hio_cmd_template=${1:-}

say() { echo "run.sh: $*" >&2; }

command -v wrk >/dev/null 2>&1 || { say "wrk not found: run bench/http/setup.sh"; exit 1; }
command -v python3 >/dev/null 2>&1 || { say "python3 not found: run bench/http/setup.sh"; exit 1; }
nginx_bin=$(command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
have_curl=1
command -v curl >/dev/null 2>&1 || { have_curl=0; say "curl not found: servers' answers are not checked"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hio-http-bench.XXXXXX")
chmod 755 "$tmp"  # nginx's worker runs as nobody when the master is root
pids=()
wrk_pid=""

stop_server() {  # PID: SIGTERM to its process group, SIGKILL after 5 s
  local pid=$1 i
  kill -TERM -- "-$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  for ((i = 0; i < 100; i++)); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local pid
  if [ -n "$wrk_pid" ]; then kill "$wrk_pid" 2>/dev/null; wait "$wrk_pid" 2>/dev/null; fi
  for pid in "${pids[@]}"; do stop_server "$pid"; done
  pids=()
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT
trap 'say terminated; exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {  # PID PORT: 0 once PORT accepts, 1 after 30 s, 2 if PID exited
  local pid=$1 port=$2 i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$pid" 2>/dev/null || return 2
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# run_wrk OUT ARGS...: wrk ARGS with its output to OUT, in the background
# so that a signal reaches the traps at once rather than after wrk's run.
run_wrk() {
  local out=$1 rc
  shift
  wrk "$@" >"$out" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid"
  rc=$?
  wrk_pid=""
  return "$rc"
}

to_ms() {  # wrk's "180.00us" / "1.20ms" / "2.00s" -> milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
    else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# Results, one entry per row, in order.
names=() rps=() p50=() p90=() p99=() errs=() notes=()

add_row() {  # NAME RPS P50 P90 P99 ERRORS NOTE
  names+=("$1") rps+=("$2") p50+=("$3") p90+=("$4") p99+=("$5") errs+=("$6") notes+=("$7")
}

failed=0

# measure NAME PORT PID LOG: waits, checks, warms up, runs wrk, adds a row.
measure() {
  local name=$1 port=$2 pid=$3 log=$4 url="http://127.0.0.1:$2/" out code body
  wait_port "$pid" "$port"
  case $? in
    0) ;;
    2)
      wait "$pid" 2>/dev/null
      code=$?
      say "$name exited (status $code) before accepting connections; end of its output:"
      tail -n 20 "$log" >&2
      add_row "$name" - - - - - "failed: exited with status $code before listening"
      failed=1
      return ;;
    *)
      say "$name did not accept connections on port $port within 30 s; end of its output:"
      tail -n 20 "$log" >&2
      add_row "$name" - - - - - "failed: not listening after 30 s"
      failed=1
      return ;;
  esac
  if [ "$have_curl" = 1 ]; then
    code=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 10 "$url")
    body=$(cat "$tmp/body" 2>/dev/null)
    if [ "$code" != 200 ]; then
      say "$name answered GET / with status ${code:-none}; end of its stderr:"
      tail -n 20 "$log" >&2
      add_row "$name" - - - - - "failed: GET / gave ${code:-no answer}"
      failed=1
      return
    fi
    [ "$body" = hello ] || say "$name: GET / answered 200 with body '$body', not 'hello'"
  fi
  if [ "$warmup" != 0 ]; then
    run_wrk /dev/null -t"$threads" -c"$conns" -d"$warmup" "$url"
  fi
  say "$name: wrk -t$threads -c$conns -d$duration --latency $url"
  run_wrk "$tmp/wrk.out" -t"$threads" -c"$conns" -d"$duration" --latency "$url"
  local rc=$?
  out=$(cat "$tmp/wrk.out")
  if [ "$rc" != 0 ]; then
    echo "$out" >&2
    add_row "$name" - - - - - "failed: wrk exited with an error"
    failed=1
    return
  fi
  echo "$out" | sed "s/^/  [$name] /" >&2
  if ! kill -0 "$pid" 2>/dev/null; then
    say "$name exited during the run; end of its stderr:"
    tail -n 20 "$log" >&2
  fi
  local r l50 l90 l99 e
  r=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
  l50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  l90=$(echo "$out" | awk '$1 == "90%" {print $2}')
  l99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  # Socket errors (connect, read, write, timeout) and non-2xx/3xx answers.
  e=$(echo "$out" | awk '
    /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { n += $NF }
    END { print n + 0 }')
  if [ -z "$r" ] || [ -z "$l50" ]; then
    add_row "$name" - - - - - "failed: could not read wrk's output"
    failed=1
    return
  fi
  add_row "$name" "$r" "$(to_ms "$l50")" "$(to_ms "$l90")" "$(to_ms "$l99")" "$e" ""
}

# start NAME LOG CMD...: runs CMD in the background in a session (and so a
# process group) of its own, whose id is its pid, stdout and stderr to LOG;
# sets $started to that pid. Stopping the group stops whatever CMD started
# (nginx's worker, a shell command's children).
start() {
  local name=$1 log=$2
  shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  started=$!
  pids+=("$started")
}

finish() {  # PID: stops the server and forgets it
  local pid=$1 p keep=()
  stop_server "$pid"
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

# --- versions ---------------------------------------------------------------
nginx_version=$([ -n "$nginx_bin" ] && "$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')
wrk_version=$(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}')
venv_py=$root/bench/python-hio/.venv/bin/python
py_hio_version=$([ -x "$venv_py" ] && "$venv_py" -c 'import hio, sys; print("hio", hio.__version__, "on Python", sys.version.split()[0])' 2>/dev/null)
say "nginx: ${nginx_version:-missing}; wrk: ${wrk_version:-?}; Python: ${py_hio_version:-missing}"
say "each server: $([ "$warmup" = 0 ] && echo no || echo "$warmup") warm-up, then ${duration} with ${conns} connections, ${threads} wrk thread(s)"

# --- nginx ------------------------------------------------------------------
if [ -z "$nginx_bin" ]; then
  add_row nginx - - - - - "skipped: nginx not found (run bench/http/setup.sh)"
else
  port=$(free_port)
  sed -e "s|@DIR@|$tmp|g" -e "s|@PORT@|$port|g" "$here/nginx.conf" >"$tmp/nginx.conf"
  start nginx "$tmp/nginx.log" "$nginx_bin" -p "$tmp/" -e "$tmp/error.log" -c "$tmp/nginx.conf"
  measure nginx "$port" "$started" "$tmp/error.log"
  finish "$started"
fi

# --- Python hio -------------------------------------------------------------
if [ -z "$py_hio_version" ]; then
  add_row "Python hio" - - - - - "skipped: no hio in bench/python-hio/.venv (run bench/http/setup.sh)"
else
  port=$(free_port)
  start "Python hio" "$tmp/python.log" \
    "$venv_py" "$here/hello_wsgi.py" 127.0.0.1 "$port" --tock "$py_tock"
  measure "Python hio" "$port" "$started" "$tmp/python.log"
  finish "$started"
fi

# --- hio --------------------------------------------------------------------
hio_skip=""
if [ -n "$hio_cmd_template" ]; then
  hio_name="hio (cmd)"
else
  hio_name=hio
  if [ -n "${HIO_BIN:-}" ]; then
    hio_bin=$HIO_BIN
  else
    target=$(cd "$root" && cargo metadata --format-version 1 --no-deps --offline 2>/dev/null |
      sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p') || target=""
    hio_bin=${target:-$root/target}/release/hio
  fi
  case $hio_bin in /*) ;; *) hio_bin=$root/$hio_bin ;; esac
  if [ ! -x "$hio_bin" ]; then
    hio_skip="no $hio_bin (cargo build --release -p hio)"
  elif [ ! -f "$root/examples/hello.toml" ]; then
    hio_skip="no examples/hello.toml"
  elif [ ! -f "$root/plugins/dist/hello.wasm" ]; then
    hio_skip="no plugins/dist/hello.wasm (plugins/build.sh)"
  fi
fi
if [ -n "$hio_skip" ]; then
  add_row "$hio_name" - - - - - "skipped: $hio_skip"
else
  port=$(free_port)
  if [ -n "$hio_cmd_template" ]; then
    cmd=${hio_cmd_template//\{addr\}/127.0.0.1:$port}
    cmd=${cmd//\{port\}/$port}
    say "hio: $cmd"
    start "$hio_name" "$tmp/hio.log" bash -c "cd \"\$1\" && $cmd" bash "$root"
  else
    start "$hio_name" "$tmp/hio.log" bash -c 'cd "$1" && shift && exec "$@"' bash "$root" \
      "$hio_bin" run examples/hello.toml --option "hello.addr=127.0.0.1:$port"
  fi
  measure "$hio_name" "$port" "$started" "$tmp/hio.log"
  finish "$started"
fi

# --- crews ------------------------------------------------------------------
# hello_crews N PORT FILE: a manifest of the hello doer in N crews on PORT.
hello_crews() {
  local n=$1 port=$2 file=$3 i
  printf 'tock = 0.03125\nreal = true\nwake = "io"\n' >"$file"
  for ((i = 1; i <= n; i++)); do
    printf '\n[[doers]]\nname = "c%d"\ncrew = true\ndoers = [ { name = "hello", plugin = "%s", options = { addr = "127.0.0.1:%d" }, grants = { listen = ["127.0.0.1:*"] } } ]\n' \
      "$i" "$root/plugins/dist/hello.wasm" "$port" >>"$file"
  done
}
if [ "${HTTP_BENCH_CREWS:-0}" = 1 ]; then
  if [ -z "$nginx_bin" ]; then
    add_row "nginx x2" - - - - - "skipped: nginx not found (run bench/http/setup.sh)"
  else
    port=$(free_port)
    sed -e "s|@DIR@|$tmp|g" -e "s|@PORT@|$port|g" -e 's|^worker_processes 1;|worker_processes 2;|' \
      "$here/nginx.conf" >"$tmp/nginx.conf"
    start "nginx x2" "$tmp/nginx.log" "$nginx_bin" -p "$tmp/" -e "$tmp/error.log" -c "$tmp/nginx.conf"
    measure "nginx x2" "$port" "$started" "$tmp/error.log"
    finish "$started"
  fi
  for n in 1 2; do
    name=$([ "$n" = 1 ] && echo "hio crew x1" || echo "hio crews x2")
    if [ -n "$hio_skip" ] || [ -n "$hio_cmd_template" ]; then
      add_row "$name" - - - - - "skipped: ${hio_skip:-a HIO_ADDR_CMD run}"
      continue
    fi
    port=$(free_port)
    hello_crews "$n" "$port" "$tmp/crews$n.toml"
    start "$name" "$tmp/hio-crews.log" "$hio_bin" run "$tmp/crews$n.toml" --threads 2
    measure "$name" "$port" "$started" "$tmp/hio-crews.log"
    finish "$started"
  done
fi

# --- table ------------------------------------------------------------------
ratio() {  # A B: A / B with two decimals, "-" when either is not a number
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2f", a / b; else print "-" }'
}
nginx_rps=${rps[0]}
py_rps=${rps[1]}
echo
echo "HTTP/1.1 GET / (hello), wrk -t$threads -c$conns -d$duration, latencies in ms"
printf '%-12s %12s %9s %9s %9s %8s %9s %9s\n' server 'requests/s' p50 p90 p99 errors 'vs nginx' 'vs Py hio'
for i in "${!names[@]}"; do
  if [ -n "${notes[$i]}" ]; then
    printf '%-12s %s\n' "${names[$i]}" "${notes[$i]}"
  else
    printf '%-12s %12s %9s %9s %9s %8s %9s %9s\n' "${names[$i]}" "${rps[$i]}" \
      "${p50[$i]}" "${p90[$i]}" "${p99[$i]}" "${errs[$i]}" \
      "$(ratio "${rps[$i]}" "$nginx_rps")" "$(ratio "${rps[$i]}" "$py_rps")"
  fi
done
echo "(vs: requests/s divided by nginx's and by Python hio's; errors: wrk's socket errors plus non-2xx/3xx answers)"
if [ "${HTTP_BENCH_CREWS:-0}" = 1 ]; then
  row() {  # NAME: its requests/s, or "-"
    local i
    for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && { echo "${rps[$i]}"; return; }; done
    echo -
  }
  echo "crews: two crews vs one $(ratio "$(row 'hio crews x2')" "$(row 'hio crew x1')"); two crews vs nginx x2 $(ratio "$(row 'hio crews x2')" "$(row 'nginx x2')"); nginx x2 vs nginx $(ratio "$(row 'nginx x2')" "$nginx_rps")"
fi
exit "$failed"
