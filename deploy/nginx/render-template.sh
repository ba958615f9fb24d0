#!/usr/bin/env bash
# Renders tradein.conf.template (next to this script) into DIR/nginx.conf (or --out FILE) and creates DIR,
# the runtime directory (pid, logs, temp files). Prints the config's path.
#
#   render-template.sh --dir DIR --listen HOST:PORT --upstream HOST:PORT [--upstream HOST:PORT ...]
#                      [--max_fails N] [--fail_timeout 10s] [--tries N] [--out FILE]
#
# --tries defaults to the number of upstreams (each instance tried at most once per call).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="" listen="" max_fails=2 fail_timeout=10s tries="" out=""
upstreams=()
usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" >&2; exit 2; }
while (($#)); do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --listen) listen="$2"; shift 2 ;;
    --upstream) upstreams+=("$2"); shift 2 ;;
    --max_fails) max_fails="$2"; shift 2 ;;
    --fail_timeout) fail_timeout="$2"; shift 2 ;;
    --tries) tries="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) usage ;;
  esac
done
[[ -n "$dir" && -n "$listen" && ${#upstreams[@]} -gt 0 ]] || usage
[[ -n "$tries" ]] || tries=${#upstreams[@]}
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
servers=""
for upstream in "${upstreams[@]}"; do
  servers+="        server ${upstream} max_fails=${max_fails} fail_timeout=${fail_timeout};"$'\n'
done
servers="${servers%$'\n'}"
[[ -n "$out" ]] || out="$dir/nginx.conf"
while IFS= read -r line || [[ -n "$line" ]]; do
  if [[ "$line" == "@UPSTREAM_SERVERS@" ]]; then
    printf '%s\n' "$servers"
    continue
  fi
  line="${line//@RUNTIME_DIR@/$dir}"
  line="${line//@LISTEN@/$listen}"
  line="${line//@MAX_FAILS@/$max_fails}"
  line="${line//@FAIL_TIMEOUT@/$fail_timeout}"
  line="${line//@NEXT_UPSTREAM_TRIES@/$tries}"
  printf '%s\n' "$line"
done < "$here/tradein.conf.template" > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
