#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine (as root) to run and test motcua-kiosk:
# install the Debian packages the project needs when they are missing, then
# create the virtual environment .venv and install the project into it.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  # Python 3.11 with venv and headers (Debian 12's python3 is 3.11)
  python3 python3-venv python3-dev build-essential pkg-config
  # pyscard builds from source against PC/SC lite; pcscd is the daemon
  swig libpcsclite-dev pcscd
  # vpcd: a virtual PC/SC reader that the simulated chip plugs into (tests, demo)
  vsmartcard-vpcd
  # Kivy renders offscreen through Mesa (EGL/GLES2), no X server needed
  libgl1-mesa-dri libegl1 libgles2 libmtdev1
  # OCR (issue 4 deepens it; installed from the start so the image is stable)
  tesseract-ocr tesseract-ocr-vie
  # the queue announces called numbers in Vietnamese
  espeak-ng
  # OCR-B, the MRZ font: renders the MRZ test images and templates
  fonts-ocr-b
  # fonts with Vietnamese coverage (the kiosk ships its own copy in assets/)
  fonts-dejavu-core
  # USB receipt printers: pyusb talks to them through libusb
  libusb-1.0-0
  # the back office's fleet page is tested in headless Chromium, through its WebDriver
  chromium chromium-driver
  # config/monitoring/: promtool and amtool check it, and the alert rules run in a real Prometheus
  prometheus prometheus-alertmanager
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bootstrap: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-}
if [[ -z "$PY" ]]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY=$cand; break
    fi
  done
fi
if [[ -z "$PY" ]]; then
  echo "bootstrap: Python 3.11 not found (Debian 12 ships it as python3)" >&2
  exit 1
fi

stamp=.venv/.installed
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
# Every Python package comes from requirements.lock, pinned with its hashes (refresh it with
# scripts/lock.sh). The installers come first, from the same lock; pyscard, the one package built
# from source, is then built with them (no isolated build environment pulling today's setuptools),
# and the project itself is installed last without looking at any index.
if [[ ! -f $stamp || pyproject.toml -nt $stamp || requirements.lock -nt $stamp ]]; then
  tools=$(mktemp)
  awk '/^[A-Za-z0-9]/ { keep = ($1 ~ /^(pip|setuptools|wheel)==/) } keep' requirements.lock >"$tools"
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r "$tools"
  rm -f "$tools"
  .venv/bin/python -m pip install -q --require-hashes --no-deps --no-build-isolation -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation --no-index -e .
  .venv/bin/python -m pip check
  touch "$stamp"
fi
