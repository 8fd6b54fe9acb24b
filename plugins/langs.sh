#!/usr/bin/env bash
# Builds the doers written in Python, JavaScript and C into dist/ as
# <name>-py.wasm, <name>-js.wasm and <name>-c.wasm, after installing each
# toolchain where it is missing, from its package registry, into .tools/:
#   Python: componentize-py (pip, requirements.txt);
#   JavaScript: componentize-js and jco (npm, js/package-lock.json);
#   C: wit-bindgen's C generator (cargo install; a debug build, as it
#      only turns three WIT files into C), zig cc (pip) and jco's
#      `component new` with the WASI preview-1 adapter.
# wit-bindgen compiles while pip and npm download. A toolchain that cannot
# be installed stops the build with a message saying what is missing. A
# component newer than its sources is kept. plugins/build.sh --all runs
# this after the Rust plugins.
# Usage: plugins/langs.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
tools="$here/.tools"
dist="$here/dist"
wit="$root/wit"
WIT_BINDGEN=0.63.0
mkdir -p "$tools" "$dist"

need() {
  if ! command -v "$1" >/dev/null; then
    echo "hio: building $2 doers needs $1 ($3), which is not on PATH" >&2
    exit 1
  fi
}

# ---- toolchains
need python3 "Python and C" "CPython 3.10 or later, with venv and pip"
need node "JavaScript and C" "Node.js 18 or later, with npm"
need npm "JavaScript and C" "Node.js's package manager"
need cargo "C" "Rust's cargo, for wit-bindgen"

# wit-bindgen compiles in the background while pip and npm download.
bindgen="$tools/cargo/bin/wit-bindgen"
bindgen_log="$tools/wit-bindgen-install.log"
bindgen_pid=""
if ! "$bindgen" --version 2>/dev/null | grep -q "$WIT_BINDGEN"; then
  echo "== installing wit-bindgen-cli $WIT_BINDGEN, C generator only (cargo install, in the background)"
  cargo install --quiet --locked --debug --root "$tools/cargo" "wit-bindgen-cli@$WIT_BINDGEN" \
    --no-default-features --features c >"$bindgen_log" 2>&1 &
  bindgen_pid=$!
  trap '[ -z "$bindgen_pid" ] || kill "$bindgen_pid" 2>/dev/null || true' EXIT
fi

py="$tools/py/bin/python"
if [ ! -x "$py" ] || ! cmp -s "$here/requirements.txt" "$tools/py/requirements.txt"; then
  echo "== installing componentize-py and zig (pip)"
  rm -rf "$tools/py"
  python3 -m venv "$tools/py" || {
    echo "hio: python3 -m venv failed: install Python's venv module (Debian: python3-venv)" >&2
    exit 1
  }
  "$py" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" || {
    echo "hio: pip could not install $here/requirements.txt (is PyPI reachable?)" >&2
    exit 1
  }
  cp "$here/requirements.txt" "$tools/py/requirements.txt"
fi

if ! cmp -s "$here/js/package-lock.json" "$here/js/node_modules/.hio-lock" 2>/dev/null; then
  echo "== installing componentize-js and jco (npm)"
  (cd "$here/js" && npm ci --no-audit --no-fund --loglevel=error) || {
    echo "hio: npm ci could not install $here/js/package.json (is the npm registry reachable?)" >&2
    exit 1
  }
  cp "$here/js/package-lock.json" "$here/js/node_modules/.hio-lock"
fi

if [ -n "$bindgen_pid" ]; then
  if ! wait "$bindgen_pid"; then
    bindgen_pid=""
    cat "$bindgen_log" >&2
    echo "hio: cargo install wit-bindgen-cli@$WIT_BINDGEN failed (is crates.io reachable?)" >&2
    exit 1
  fi
  bindgen_pid=""
  echo "== wit-bindgen-cli $WIT_BINDGEN installed"
fi

# ---- builds
# fresh OUT DEP...: OUT exists and is newer than every DEP.
fresh() {
  local out="$1"
  shift
  [ -f "$out" ] || return 1
  for dep in "$@"; do
    [ "$dep" -nt "$out" ] && return 1
  done
  return 0
}

world_of() {
  # Servers need the http-doer world; the rest the doer world.
  case "$1" in hello) echo http-doer ;; *) echo doer ;; esac
}

doers=(recorder relay hello counter)

for name in "${doers[@]}"; do
  out="$dist/$name-py.wasm"
  if ! fresh "$out" "$here/py/$name.py" "$here/py/hio_doer.py" "$here/py/hio_http.py" "$wit"/*.wit; then
    echo "== $name-py.wasm (componentize-py)"
    "$tools/py/bin/componentize-py" --quiet -d "$wit" -w "$(world_of "$name")" \
      componentize "$name" -p "$here/py" -o "$out.tmp"
    mv "$out.tmp" "$out"
  fi
done

for name in "${doers[@]}"; do
  out="$dist/$name-js.wasm"
  if ! fresh "$out" "$here/js/$name.js" "$here/js/hio_doer.js" "$here/js/hio_http.js" "$wit"/*.wit; then
    echo "== $name-js.wasm (componentize-js)"
    (cd "$here/js" && node tools.mjs componentize "$name.js" "$wit" "$(world_of "$name")" "$out.tmp")
    mv "$out.tmp" "$out"
  fi
done

gen="$tools/c-gen"
if ! fresh "$gen/http_doer.c" "$wit"/*.wit; then
  echo "== C bindings (wit-bindgen c)"
  rm -rf "$gen"
  "$bindgen" c "$wit" --world http-doer --out-dir "$gen" >/dev/null
fi
export ZIG_GLOBAL_CACHE_DIR="$tools/zig-cache"
for name in "${doers[@]}"; do
  out="$dist/$name-c.wasm"
  if ! fresh "$out" "$here/c/$name.c" "$here/c"/hio_*.[ch] "$gen/http_doer.c"; then
    echo "== $name-c.wasm (zig cc, component new)"
    # A 1 MiB stack, as Rust's wasm targets have (zig's default is 16 MiB,
    # the whole of a doer's default memory).
    "$py" -m ziglang cc -target wasm32-wasi -mexec-model=reactor -O2 -g0 -s \
      -Wall -Wextra -Werror -Wl,-z,stack-size=1048576 -I "$gen" -I "$here/c" \
      -o "$tools/$name-c.core.wasm" "$here/c/$name.c" "$here/c/hio_doer.c" "$here/c/hio_http.c" \
      "$gen/http_doer.c" "$gen/http_doer_component_type.o"
    (cd "$here/js" && node tools.mjs new "$tools/$name-c.core.wasm" "$out.tmp")
    mv "$out.tmp" "$out"
  fi
done
echo "Python, JavaScript and C doers built into $dist"
