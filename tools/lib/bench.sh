# tools/lib/bench.sh: shell functions the benchmark scripts share (tools/bench, tools/bench-wait,
# tools/bench-cluster, tools/bench-scripts, tools/bench-transactions). Sourced, never run; needs bash.

# A loopback port nothing listens on (a connect is refused), and whose cluster bus port (+10000) is free too.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
      ! (exec 3<>"/dev/tcp/127.0.0.1/$((port + 10000))") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free loopback port found" >&2
  return 1
}

# Waits until a redis-server on 127.0.0.1:PORT answers PING, for about SECONDS (default 30); false if it never
# did.
wait_redis() { # port [seconds]
  for _ in $(seq 1 $((${2:-30} * 10))); do
    if redis-cli -p "$1" ping >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Stops the tradein-server PID (SIGTERM, then waits for it). When it did not exit 0 — it crashed during the run
# or at shutdown — says so on stderr with the end of ERR, the file its stderr went to (the crash handler's stack
# is there), which the caller's clean-up would otherwise delete. Returns the exit status.
stop_server() { # pid stderr_file
  local status=0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || status=$?
  if ((status != 0)); then
    echo "tradein-server (pid $1) exited with status $status (a crash?); the end of its stderr:" >&2
    tail -n 60 "$2" >&2
  fi
  return "$status"
}

# utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat; the name may hold spaces).
cpu_ticks() {
  local fields
  fields=$(sed 's/^.*) //' "/proc/$1/stat")
  # shellcheck disable=SC2086
  set -- $fields
  echo $((${12} + ${13}))
}

# Copies the shipped policies to DIR and gives ra-2025 (the loadgen's claims: Rui'an, 2025) one budget on the
# digital types, so that every claim of the one_digital basket allocates on, and every confirm settles on, one
# budget key — one Redis slot.
policies_with_one_budget() {
  cp -r "$ROOT/deploy/policies" "$1"
  cat >>"$1/ra-2025.textproto" <<'BUDGET'

budgets {
  id: "ra-2025-bench-digital"
  title: "benchmark: one budget for every digital line"
  ref { document: "tools/lib/bench.sh" article: "policies_with_one_budget" }
  total_fen: 100000000000
  product_types: ["digital.phone", "digital.tablet", "digital.smartwatch"]
}
BUDGET
}

# Starts a Redis Cluster on loopback in DIR: MASTERS masters with REPLICAS replicas each (AOF off, no
# snapshots: a benchmark store). Appends the pids to the array `pids` and the ports to `ports`; the caller
# kills them.
start_cluster() { # dir masters replicas
  local dir="$1" masters="$2" replicas="$3" port
  for _ in $(seq 1 $((masters * (1 + replicas)))); do
    port=$(free_port)
    mkdir -p "$dir/node-$port"
    redis-server --bind 127.0.0.1 --port "$port" --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 5000 --save "" --appendonly no --repl-diskless-sync-delay 0 \
      --dir "$dir/node-$port" --logfile "$dir/node-$port/redis.log" --daemonize no &
    pids+=($!)
    ports+=("$port")
  done
  for port in "${ports[@]}"; do
    wait_redis "$port" 10 || true
  done
  # shellcheck disable=SC2046
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas "$replicas" \
    --cluster-yes >"$dir/create.log" 2>&1
  for _ in $(seq 1 100); do
    redis-cli -p "${ports[0]}" cluster info | grep -q cluster_state:ok && break || sleep 0.1
  done
}

# Waits until a tradein-server on 127.0.0.1:PORT answers Health/Check, for about SECONDS (default 10); with
# PID, gives up as soon as that process has exited.
wait_serving() { # loadgen port [pid [seconds]]
  for _ in $(seq 1 $((${4:-10} * 5))); do
    [ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 1
    "$1" --target="127.0.0.1:$2" --scenario=health --count=1 --warmup=0s --channels=1 >/dev/null 2>&1 &&
      return 0
    sleep 0.2
  done
  return 1
}
