#!/usr/bin/env bash
# Configures and builds lutnet with a CMake preset (default: release). Incremental and idempotent.
set -euo pipefail
preset="${1:-release}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
