#!/usr/bin/env bash
# Train the Rasa model (once per content) and print its path on stdout.
#
# The model is cached in $CACHE/models/model-<key>.tar.gz, where the key is a hash of
# everything that goes into training: bot/config.yml, the domain, bot/data/, nlu/train/
# (never nlu/eval/: that is the held-out set scripts/eval_nlu.sh tests with), the Rasa
# constraints (which pin the Rasa version) and this script. Same inputs, same model: a
# second run prints the cached path at once. Progress goes to stderr.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

config="bot/config.yml"
domain="bot/domain"
data=(bot/data nlu/train)

# Every input file, in a stable order; the key covers names and contents.
inputs() {
  {
    echo "$config"
    find "$domain" "${data[@]}" -type f
    echo "bot/rasa-constraints.txt"
    echo "scripts/train_rasa.sh"
  } | LC_ALL=C sort -u
}
key="$(inputs | while IFS= read -r f; do printf '%s\0' "$f"; sha256sum <"$f"; done \
  | sha256sum | cut -c1-16)"
models="$CACHE/models"
model="$models/model-$key.tar.gz"
if [ -f "$model" ]; then echo "$model"; exit 0; fi

venv="$(bash "$ROOT/scripts/setup_rasa.sh")"
export RASA_TELEMETRY_ENABLED=false
# Rasa's training cache would otherwise be .rasa/ in the working tree.
export RASA_CACHE_DIRECTORY="$CACHE/rasa-train-cache"

say "checking that every intent in the domain has NLU examples"
"$venv/bin/python" - "$domain" "${data[@]}" <<'PY'
"""Fail when a domain intent has no NLU example (rasa data validate does not check it)."""
import pathlib
import sys

import yaml

NO_EXAMPLES_NEEDED = {"nlu_fallback"}


def yaml_files(path):
    p = pathlib.Path(path)
    if p.is_file():
        return [p]
    return sorted(f for f in p.rglob("*") if f.suffix in (".yml", ".yaml") and f.is_file())


domain_intents = set()
for f in yaml_files(sys.argv[1]):
    for item in (yaml.safe_load(f.read_text()) or {}).get("intents") or []:
        domain_intents.add(next(iter(item)) if isinstance(item, dict) else item)

examples = {}
for path in sys.argv[2:]:
    for f in yaml_files(path):
        for block in (yaml.safe_load(f.read_text()) or {}).get("nlu") or []:
            if "intent" in block:
                text = block.get("examples") or ""
                count = sum(1 for line in text.splitlines() if line.strip().startswith("- "))
                examples[block["intent"]] = examples.get(block["intent"], 0) + count

# EXTERNAL_ intents are triggered by the app (trigger_intent), never typed by a patient.
missing = sorted(
    i for i in domain_intents - NO_EXAMPLES_NEEDED
    if not examples.get(i) and not i.startswith("EXTERNAL_")
)
if missing:
    sys.exit(
        "these intents are in the domain but have no NLU examples in "
        + " or ".join(sys.argv[2:]) + ": " + ", ".join(missing)
    )
PY

say "validating the training data"
"$venv/bin/rasa" data validate --fail-on-warnings \
  --data "${data[@]}" --config "$config" --domain "$domain" >&2

say "training the Rasa model ($key)"
mkdir -p "$models"
# Train into a scratch folder and move the finished model into place, so an interrupted
# run never leaves a half-written model under the cached name.
tmp="$(mktemp -d "$models/.train-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
"$venv/bin/rasa" train --data "${data[@]}" --config "$config" --domain "$domain" \
  --out "$tmp" --fixed-model-name "model-$key" >&2
mv "$tmp/model-$key.tar.gz" "$model"
say "trained in $((SECONDS - start)) s: $model"
echo "$model"
