#!/usr/bin/env bash
# The main job: installs what is needed (packages, MNIST), builds in Release, then trains the
# default LUTNet MLP and its XNOR baseline on MNIST, writes Verilog for both, verifies the RTL on
# every test image with Verilator, synthesizes with Yosys and prints one comparison table.
# Extra arguments go to `lutnet flow` (see `build/release/src/cli/lutnet flow --help`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/fetch-data.sh mnist
scripts/build.sh release
# Every core: the LUT kernels give the same bits at any thread count.
exec build/release/src/cli/lutnet flow --preset demo --threads "$(nproc)" --out runs/demo "$@"
