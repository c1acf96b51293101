# Shared helpers for the set-up scripts. Source it; it defines no side effects.
# Caches live outside the clone, keyed by the hash of what built them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MEDFOLLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/medfollow}"
mkdir -p "$CACHE"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# hash_of FILE... : a short, stable digest of the files' contents.
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# python_at VERSION : print an interpreter path of that minor version, or fail.
python_at() {
  local v="$1" p
  if command -v pyenv >/dev/null 2>&1; then
    p="$(pyenv versions --bare 2>/dev/null | grep -E "^${v//./\\.}\.[0-9]+$" | sort -V | tail -n1 || true)"
    if [ -n "$p" ]; then echo "$(pyenv root)/versions/$p/bin/python$v"; return 0; fi
  fi
  for c in "python$v" /usr/bin/python$v /usr/local/bin/python$v; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys' >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}

# uv_bin : print the path of a uv binary, installing it into the cache on first use.
uv_bin() {
  if command -v uv >/dev/null 2>&1; then command -v uv; return 0; fi
  local venv="$CACHE/tools/uv"
  if [ ! -x "$venv/bin/uv" ]; then
    say "installing uv into $venv"
    "$(app_python)" -m venv "$venv" >&2
    "$venv/bin/pip" install -q uv==0.13.9 >&2
  fi
  echo "$venv/bin/uv"
}

# app_python : a Python 3.11 or newer.
app_python() {
  local v p
  for v in 3.11 3.12 3.13; do
    if p="$(python_at "$v")"; then echo "$p"; return 0; fi
  done
  echo "medfollow needs Python 3.11 or newer" >&2
  return 1
}
