# Shared by tools/run and tools/test: install what is missing, configure and build.
# Usage: source tools/dev/common.sh; tradein_install_packages; tradein_build <build-dir> <build-type> [targets...]
set -euo pipefail

TRADEIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

tradein_install_packages() {
  local wanted missing=()
  wanted=$(grep -v '^\s*#' "$TRADEIN_ROOT/tools/dev/debian-packages.txt" | grep -v '^\s*$')
  for pkg in $wanted; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "tradein: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

tradein_build() {
  local dir="$1" type="$2"
  shift 2
  cmake -S "$TRADEIN_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" >/dev/null
  ninja -C "$dir" "$@"
}
