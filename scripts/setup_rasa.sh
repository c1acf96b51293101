#!/usr/bin/env bash
# Build (once) the Python 3.10 environment for Rasa 3.6.21 in the cache, keyed by
# the hash of the constraints file, and print its path. Rasa is never imported by
# the app: it pins TensorFlow 2.12 and SQLAlchemy 1.4, so it lives alone.
source "$(dirname "$0")/lib.sh"
key="$(hash_of "$ROOT/bot/rasa-constraints.txt" "$0")"
venv="$CACHE/rasa-venv-$key"
if [ -x "$venv/bin/rasa" ] && [ -f "$venv/.complete" ]; then echo "$venv"; exit 0; fi
py="$(python_at 3.10 || true)"
if [ -z "$py" ]; then
  say "no Python 3.10 found; asking uv for one"
  uv="$(uv_bin)"; "$uv" python install 3.10 >&2; py="$("$uv" python find 3.10)"
fi
say "building the Rasa 3.6.21 environment in $venv (about 2-4 minutes, 2.7 GB, once)"
rm -rf "$venv"
"$py" -m venv "$venv" >&2
"$venv/bin/pip" install -q --upgrade "pip<25" >&2
"$venv/bin/pip" install --progress-bar off -c "$ROOT/bot/rasa-constraints.txt" rasa==3.6.21 >&2
touch "$venv/.complete"
echo "$venv"
