#!/usr/bin/env bash
# Refresh requirements.lock: every Python package the kiosk and its tests use, transitive ones
# included, pinned to the newest versions pyproject.toml allows, each with its sha256 hashes.
# scripts/bootstrap.sh installs exactly this set (pip --require-hashes). Run it by hand, then
# run `make test` and commit the lock with the test result in the message:
#
#     bash scripts/lock.sh            # newest allowed versions of everything
#     bash scripts/lock.sh -P jinja2  # only move one package (pip-compile's --upgrade-package)
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_TOOLS_VERSION=7.7.0
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install -q "pip-tools==$PIP_TOOLS_VERSION"

upgrade=(--upgrade)
if [[ ${1:-} == -P ]]; then
  upgrade=(--upgrade-package "$2")
fi
"$tools/venv/bin/pip-compile" --quiet "${upgrade[@]}" \
  --generate-hashes --allow-unsafe --strip-extras \
  --extra test --extra postgres \
  --no-emit-index-url --no-emit-find-links \
  --output-file requirements.lock \
  pyproject.toml scripts/bootstrap-tools.in
echo "lock: wrote requirements.lock ($(grep -c '^[A-Za-z0-9].*==' requirements.lock) packages)"
