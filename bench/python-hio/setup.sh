#!/usr/bin/env bash
# Creates bench/python-hio/.venv and installs Python hio (ioflo/hio on PyPI),
# the peer that the echo benchmark (host/hio/benches/echo.rs) compares with.
#
# hio 0.7.20 declares Requires-Python >= 3.14, so pip on this machine's
# Python 3.11 would only offer 0.6.10; its TCP server and Doist run on 3.11
# unchanged, so it is installed with --ignore-requires-python (as
# bench/setup-python-hio.sh does for the scheduler benchmark).
# HIO_PYTHON chooses the interpreter (default: python3, 3.11 or newer).
set -euo pipefail
HIO_VERSION=0.7.20
here=$(cd "$(dirname "$0")" && pwd)
py=${HIO_PYTHON:-python3}
command -v "$py" >/dev/null 2>&1 || { echo "setup.sh: $py not found (set HIO_PYTHON)" >&2; exit 1; }
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "setup.sh: $py is older than 3.11" >&2; exit 1; }
venv=$here/.venv
if [ -x "$venv/bin/python" ] \
  && "$venv/bin/python" -c "import hio, sys; sys.exit(0 if hio.__version__ == '$HIO_VERSION' else 1)" 2>/dev/null; then
  echo "setup.sh: $venv already has hio $HIO_VERSION"
else
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --ignore-requires-python "hio==$HIO_VERSION"
fi
"$venv/bin/python" -c 'import hio, sys; from hio.core.tcp import serving; serving.EchoServerDoer; print("Python", sys.version.split()[0], "hio", hio.__version__)'
