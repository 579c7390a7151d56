#!/usr/bin/env bash
# Debian packages the project needs beyond Python 3.11:
#   scripts/system-deps.sh python   python3-venv, when this Python cannot make a virtualenv
#   scripts/system-deps.sh          chromium (browser tests) and nginx (reverse-proxy tests)
#   scripts/system-deps.sh bench    wrk (load generator) and taskset (util-linux) for make bench
# Installed when missing and when we may (root with apt-get); otherwise say what is missing and
# go on, so that the tests needing them report it themselves.
set -euo pipefail
missing=()
if [ "${1:-}" = python ]; then
  "${PYTHON:-python3}" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
elif [ "${1:-}" = bench ]; then
  command -v wrk >/dev/null || missing+=(wrk)
  command -v taskset >/dev/null || missing+=(util-linux)
else
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing Debian packages: ${missing[*]} (install with: sudo apt-get install ${missing[*]})" >&2
fi
