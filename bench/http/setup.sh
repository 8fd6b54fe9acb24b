#!/usr/bin/env bash
# Installs what bench/http/run.sh needs, and does nothing that is already
# done, so CI may run it on every build:
#   - nginx (the baseline), wrk (the load generator) and curl (run.sh checks
#     each server's answer with it) from Debian's packages, with
#     --no-install-recommends; python3 and python3-venv too where missing;
#   - Python hio 0.7.20 in bench/python-hio/.venv, through
#     bench/python-hio/setup.sh (which keeps a venv that already has it).
#
# Debian (or a derivative with apt-get). Runs as root, else through sudo
# when there is one; apt-get is not called at all when every command is
# already there. Debian's nginx package (nginx-light in bookworm is only
# nginx plus the echo module) enables a site on port 80 and starts it where
# services may start; run.sh never uses that one: it runs its own nginx on a
# free port, with its own configuration, under a temporary directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=$(cd "$here/.." && pwd)

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
py=${HIO_PYTHON:-python3}
if ! command -v "$py" >/dev/null 2>&1; then
  need+=(python3 python3-venv)
elif ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  need+=(python3-venv)
fi

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "setup.sh: missing ${need[*]}, and not root and no sudo to install them" >&2
    exit 1
  fi
  command -v apt-get >/dev/null 2>&1 \
    || { echo "setup.sh: missing ${need[*]}, and no apt-get (Debian expected)" >&2; exit 1; }
  echo "setup.sh: installing ${need[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${need[@]}"
else
  echo "setup.sh: nginx, wrk, curl and python3 (with venv) already there"
fi

"$bench/python-hio/setup.sh"

# The versions, for the record (run.sh prints them again).
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx_bin" -v 2>&1 | sed 's/^/setup.sh: /'
wrk_version=$(dpkg-query -W -f='${Version}' wrk 2>/dev/null || true)
echo "setup.sh: wrk ${wrk_version:-(not from a Debian package)} at $(command -v wrk)"
