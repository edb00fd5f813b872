#!/usr/bin/env bash
# Make sure a Chromium is available for tests/test_browser.py (JupyterLab driven in a real headless browser).
#
#   scripts/install_browser.sh             exit 0 when Chromium is there (or was just installed), else 1
#   scripts/install_browser.sh --optional  same, but only warn when it cannot be installed (exit 0), so that
#                                          the browser test skips with its reason; under CI=true still exit 1
#
# It uses Debian's `chromium` package (apt-get, as root). Playwright's own browser download is not used: it
# does not work on these machines. A Chromium elsewhere can be named with CHROMIUM=/path/to/chromium.
set -euo pipefail

optional=0
case "${1:-}" in
  --optional) optional=1 ;;
  "") ;;
  *) echo "usage: $0 [--optional]" >&2; exit 2 ;;
esac

found() {
  local candidate
  for candidate in "${CHROMIUM:-}" "$(command -v chromium || true)" "$(command -v chromium-browser || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      # Debian's launcher script prints a harmless shell warning on stderr: keep only the version line.
      echo "browser: $candidate ($("$candidate" --version 2>/dev/null || echo 'version unknown'))"
      return 0
    fi
  done
  return 1
}

if found; then
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "browser: chromium is missing; installing Debian's chromium with apt-get (about a minute)"
  export DEBIAN_FRONTEND=noninteractive
  apt_options=(-q -o DPkg::Lock::Timeout=300)  # wait for another apt-get instead of failing at once
  apt-get "${apt_options[@]}" update >/dev/null
  # fonts-liberation: readable text in the screenshots; the other recommends (printing, udev, mesa) are
  # not needed for a headless browser.
  apt-get "${apt_options[@]}" install -y --no-install-recommends chromium fonts-liberation >/dev/null
  if found; then
    exit 0
  fi
  echo "browser: apt-get finished but no chromium is on PATH" >&2
else
  cat >&2 <<'EOF'
browser: no Chromium found, and this script can install one only as root on a system with apt-get.
Install it yourself, then run the tests again:
  Debian:             sudo apt-get install chromium fonts-liberation
  Ubuntu:             sudo apt-get install chromium-browser   (or any Chromium/Chrome build)
  macOS:              brew install --cask chromium
  any other Chromium: export CHROMIUM=/path/to/chromium
Without it, tests/test_browser.py is skipped (and fails under CI=true).
EOF
fi

ci="$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')"
if [ "$optional" = 1 ] && [ "$ci" != true ] && [ "$ci" != 1 ] && [ "$ci" != yes ]; then
  echo "browser: continuing without Chromium (the browser test will be skipped)" >&2
  exit 0
fi
exit 1
