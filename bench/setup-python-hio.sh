#!/usr/bin/env bash
# Installs the Python hio peer into bench/.venv. hio 0.7.20 declares
# Python >= 3.14, which the package index here cannot serve; it runs on 3.13
# (and 3.11), so it is installed with --ignore-requires-python.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=""
for cand in "${HIO_PYTHON:-}" "$HOME/.pyenv/versions/3.13.0/bin/python3" python3.13 python3; do
  if [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1; then py=$cand; break; fi
done
[ -n "$py" ] || { echo "no python found" >&2; exit 1; }
"$py" -m venv "$here/.venv"
"$here/.venv/bin/pip" install -q --ignore-requires-python hio==0.7.20
"$here/.venv/bin/python" -c 'import hio, sys; print("Python", sys.version.split()[0], "hio", hio.__version__)'
