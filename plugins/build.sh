#!/usr/bin/env bash
# Builds every Rust plugin for wasm32-wasip2 and copies each component to
# dist/<name>.wasm, after installing the pinned toolchain and the target
# where they are missing (toolchain.sh). With --all it then builds the
# doers written in Python, JavaScript and C too (langs.sh), installing
# their toolchains on the first run: the tests and examples/languages.toml
# need them, the other examples do not.
# Honours CARGO_TARGET_DIR (and cargo's other ways of moving the target
# folder): cargo says where it put the components.
# Usage: plugins/build.sh [--all]
set -euo pipefail
cd "$(dirname "$0")"
langs=false
for arg in "$@"; do
  case "$arg" in
    --all) langs=true ;;
    *)
      echo "usage: plugins/build.sh [--all]  (--all: the Python, JavaScript and C doers too)" >&2
      exit 2
      ;;
  esac
done
./toolchain.sh
cargo build --release --target wasm32-wasip2 --locked
target=$(cargo metadata --format-version 1 --no-deps --offline |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
if [ ! -d "$target" ]; then
  echo "hio: cargo metadata named no target folder for $(pwd)" >&2
  exit 1
fi
mkdir -p dist
for name in recorder producer consumer stdlib command misfit noop hostile script \
  echo echo-conn echo-spawn client hello router fetch proxy ticker; do
  # Cargo names a library after its crate with `-` made `_`.
  cp "$target/wasm32-wasip2/release/${name//-/_}.wasm" "dist/$name.wasm"
done
echo "plugins built into $(pwd)/dist"
if $langs; then
  # The doers written in Python, JavaScript and C.
  ./langs.sh
fi
