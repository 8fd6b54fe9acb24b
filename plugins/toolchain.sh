#!/usr/bin/env bash
# Installs the toolchain rust-toolchain.toml pins, with its components and
# the wasm32-wasip2 target, where they are missing. rustup does not always
# install a pinned toolchain by itself (RUSTUP_AUTO_INSTALL=0), so every
# entry point (plugins/build.sh, .ci/run) calls this first.
# Usage: plugins/toolchain.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
toolchain=$(sed -n 's/^channel = "\(.*\)"/\1/p' "$root/rust-toolchain.toml")
if ! command -v rustup >/dev/null; then
  echo "hio: rustup is needed to install Rust $toolchain (https://rustup.rs)" >&2
  exit 1
fi
if ! rustup toolchain list | grep -q "^$toolchain-"; then
  echo "== installing Rust $toolchain"
  rustup toolchain install "$toolchain" --profile minimal --component rustfmt,clippy
fi
if ! rustup target list --installed --toolchain "$toolchain" | grep -qx wasm32-wasip2; then
  echo "== adding the wasm32-wasip2 target to Rust $toolchain"
  rustup target add wasm32-wasip2 --toolchain "$toolchain"
fi
