# Shared by tools/run, tools/test and tools/fuzz: install what is missing, configure and build.
# Usage: source tools/dev/common.sh; tradein_install_packages; tradein_build <build-dir> <build-type> [targets...]
#        tradein_build_sanitized <build-dir> <sanitizers> [targets...]
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

# The build directory of tools/test --sanitize=<list> and tools/fuzz: build/asan for address,undefined (the
# default), else build/sanitize-<list>.
tradein_sanitized_dir() {
  if [[ "$1" == address,undefined ]]; then echo "$TRADEIN_ROOT/build/asan"; else echo "$TRADEIN_ROOT/build/sanitize-${1//,/-}"; fi
}

# The clang build (Debian's clang is clang 14) with the sanitizers on everything and the fuzz targets
# (cmake/TradeinSanitizers.cmake). -O1 with line tables only: a shorter build than -O2 -g, and the
# reports still name file:line.
tradein_build_sanitized() {
  local dir="$1" sanitizers="$2"
  shift 2
  cmake -S "$TRADEIN_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
    -DTRADEIN_SANITIZE="$sanitizers" -DTRADEIN_FUZZ=ON >/dev/null
  ninja -C "$dir" "$@"
}
