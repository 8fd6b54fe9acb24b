#!/usr/bin/env bash
# Builds every plugin for wasm32-wasip2 and copies each component to
# dist/<name>.wasm, after installing the pinned toolchain and the target
# where they are missing; then the doers in Python, JavaScript and C
# (langs.sh). Usage: plugins/build.sh
set -euo pipefail
cd "$(dirname "$0")"
./toolchain.sh
cargo build --release --target wasm32-wasip2 --locked
mkdir -p dist
for name in recorder producer consumer stdlib command misfit noop hostile script \
  echo echo-conn echo-spawn client hello router fetch proxy ticker; do
  # Cargo names a library after its crate with `-` made `_`.
  cp "target/wasm32-wasip2/release/${name//-/_}.wasm" "dist/$name.wasm"
done
echo "plugins built into $(pwd)/dist"
# The doers written in Python, JavaScript and C.
./langs.sh
