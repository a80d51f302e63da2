#!/usr/bin/env bash
# The test command: installs what is needed (packages, MNIST, Fashion-MNIST), builds in Release
# and runs the whole test suite (unit, differential, Verilator and Yosys, end-to-end) with CTest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/fetch-data.sh mnist fashion-mnist
scripts/build.sh release
ctest --preset release -j "$(nproc)"
