#!/usr/bin/env bash
# Create (or refresh) the app environment in .venv on Python 3.11+. uv keeps its
# package cache outside the clone, so a fresh clone installs in seconds.
source "$(dirname "$0")/lib.sh"
uv="$(uv_bin)"
stamp=".venv/.medfollow-$(hash_of "$ROOT/pyproject.toml")"
cd "$ROOT"
if [ -x .venv/bin/medfollow ] && [ -f "$stamp" ]; then exit 0; fi
say "installing the app environment in .venv"
[ -x .venv/bin/python ] || "$uv" venv -q --python "$(app_python)" .venv
VIRTUAL_ENV="$ROOT/.venv" "$uv" pip install -q -e ".[dev]"
rm -f .venv/.medfollow-*; touch "$stamp"
