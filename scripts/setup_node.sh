#!/usr/bin/env bash
# Install the pinned npm packages (Prism and Twilio's OpenAPI contract) into the cache,
# keyed by the lock file, and link node_modules to them.
source "$(dirname "$0")/lib.sh"
key="$(hash_of "$ROOT/package.json" "$ROOT/package-lock.json")"
dir="$CACHE/node-$key"
if [ ! -f "$dir/.complete" ]; then
  say "installing Prism and Twilio's API contract from npm (once)"
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$ROOT/package.json" "$ROOT/package-lock.json" "$dir/"
  (cd "$dir" && SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error >&2)
  touch "$dir/.complete"
fi
if [ "$(readlink "$ROOT/node_modules" 2>/dev/null)" != "$dir/node_modules" ]; then
  rm -rf "$ROOT/node_modules"
  ln -s "$dir/node_modules" "$ROOT/node_modules"
fi
