#!/usr/bin/env bash
# Make sure a Chromium is available for tests/test_browser.py (JupyterLab driven in a real headless browser),
# and a CJK font for tests/test_site.py (the site's Korean terms must not render as empty boxes, "tofu").
#
#   scripts/install_browser.sh             exit 0 when Chromium is there (or was just installed), else 1
#   scripts/install_browser.sh --optional  same, but only warn when it cannot be installed (exit 0), so that
#                                          the browser test skips with its reason; under CI=true still exit 1
#
# It uses Debian's `chromium` and `fonts-noto-cjk` packages (apt-get, as root). Playwright's own browser
# download is not used: it does not work on these machines. A Chromium elsewhere can be named with
# CHROMIUM=/path/to/chromium; any installed font with Korean glyphs (fontconfig's `fc-list :lang=ko`) will do.
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

cjk_font() {
  local family
  family="$(fc-list :lang=ko family 2>/dev/null | head -n 1)"
  if [ -n "$family" ]; then
    echo "CJK font: $family"
    return 0
  fi
  return 1
}

missing=()
found || missing+=(chromium fonts-liberation)
cjk_font || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" = 0 ]; then
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "browser: installing Debian's ${missing[*]} with apt-get (about a minute each for chromium and the fonts)"
  export DEBIAN_FRONTEND=noninteractive
  apt_options=(-q -o DPkg::Lock::Timeout=300)  # wait for another apt-get instead of failing at once
  apt-get "${apt_options[@]}" update >/dev/null
  # fonts-liberation: readable text in the screenshots; fonts-noto-cjk (57 MB): Korean, Japanese and Chinese
  # glyphs; the other recommends (printing, udev, mesa) are not needed for a headless browser.
  apt-get "${apt_options[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
  if found && cjk_font; then
    exit 0
  fi
  echo "browser: apt-get finished but chromium or a CJK font is still missing" >&2
else
  cat >&2 <<'EOF'
browser: Chromium or a CJK font is missing, and this script can install them only as root with apt-get.
Install them yourself, then run the tests again:
  Debian:             sudo apt-get install chromium fonts-liberation fonts-noto-cjk
  Ubuntu:             sudo apt-get install chromium-browser fonts-noto-cjk   (or any Chromium/Chrome build)
  macOS:              brew install --cask chromium   (macOS has CJK fonts)
  any other Chromium: export CHROMIUM=/path/to/chromium
Without them, tests/test_browser.py and tests/test_site.py's browser checks are skipped (they fail under CI=true).
EOF
fi

ci="$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')"
if [ "$optional" = 1 ] && [ "$ci" != true ] && [ "$ci" != 1 ] && [ "$ci" != yes ]; then
  echo "browser: continuing without them (the browser tests will say what they skip)" >&2
  exit 0
fi
exit 1
