#!/usr/bin/env bash
# Evaluate the NLU on the held-out set and write docs/nlu-evaluation.md.
#
# 1. Trains an NLU-only model on nlu/train/ with bot/config.yml (once per content: cached
#    in $CACHE/models/nlu-<key>.tar.gz, the key a hash of the config, nlu/train/, the Rasa
#    constraints and this script; the training time is kept beside it).
# 2. Runs `rasa test nlu` on nlu/eval/heldout.yml, which is never trained on.
# 3. Prints and writes the intent macro-F1, accuracy, the per-intent table, self_harm
#    recall, the confusion pairs and matrix, entity scores, the parse time, and the safety
#    probes: opt-out wording ("stop texting me") must not come out as stop_medication,
#    and a wish to stop a medicine must not come out as out_of_scope. A failed probe, or
#    self_harm recall below MIN_SELF_HARM_RECALL (default 1.0), exits non-zero.
#
# The results folder (with the confusion matrix PNG) is copied to $CACHE/nlu-eval/, out of
# git; only numbers go into the markdown. Options (environment): NLU_CONFIG, another
# config to compare (then the markdown is written only if NLU_REPORT is set too);
# NLU_REPORT, where to write the markdown; MIN_SELF_HARM_RECALL.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

config="${NLU_CONFIG:-bot/config.yml}"
train="nlu/train"
heldout="nlu/eval/heldout.yml"
if [ -n "${NLU_REPORT:-}" ]; then report="$NLU_REPORT"
elif [ -z "${NLU_CONFIG:-}" ]; then report="docs/nlu-evaluation.md"
else report=""; fi
min_recall="${MIN_SELF_HARM_RECALL:-1.0}"

inputs() {
  {
    echo "$config"
    find "$train" -type f
    echo "bot/rasa-constraints.txt"
    echo "scripts/eval_nlu.sh"
  } | LC_ALL=C sort -u
}
# The config's path is not in the key (only its content), so a copy in /tmp hits the cache.
key="$(inputs | while IFS= read -r f; do
  [ "$f" = "$config" ] || printf '%s\0' "$f"; sha256sum <"$f"; done | sha256sum | cut -c1-16)"
models="$CACHE/models"
model="$models/nlu-$key.tar.gz"
seconds_file="$models/nlu-$key.train-seconds"

venv="$(bash "$ROOT/scripts/setup_rasa.sh")"
export RASA_TELEMETRY_ENABLED=false
export RASA_CACHE_DIRECTORY="$CACHE/rasa-train-cache"

if [ ! -f "$model" ]; then
  say "training the NLU model ($key) on $train with $config"
  mkdir -p "$models"
  tmp="$(mktemp -d "$models/.train-nlu-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  start=$SECONDS
  "$venv/bin/rasa" train nlu --nlu "$train" --config "$config" \
    --out "$tmp" --fixed-model-name "nlu-$key" >&2
  echo $((SECONDS - start)) >"$seconds_file"
  mv "$tmp/nlu-$key.tar.gz" "$model"
  say "trained in $(cat "$seconds_file") s: $model"
else
  say "using the cached NLU model $model"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out" ${tmp:-}' EXIT
say "testing on $heldout"
"$venv/bin/rasa" test nlu --nlu "$heldout" --model "$model" --out "$out" --successes >&2

results="$CACHE/nlu-eval/nlu-$key"
rm -rf "$results"; mkdir -p "$(dirname "$results")"; cp -r "$out" "$results"
say "results (confusion matrix PNG included) copied to $results"

cmd="bash scripts/eval_nlu.sh"
[ -n "${NLU_CONFIG:-}" ] && cmd="NLU_CONFIG=$config $cmd"

# Parse time and the safety probes, on the model loaded as the server loads it.
"$venv/bin/python" - "$model" "$heldout" "$out/probes.json" <<'PY' 2> >(grep -v -e "^$" -e "WARNING" >&2)
"""Time parses of the held-out messages and run the safety probes."""
import asyncio
import json
import logging
import re
import statistics
import sys
import time

import yaml

import structlog  # noqa: E402

logging.disable(logging.WARNING)
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
from rasa.core.agent import Agent  # noqa: E402

MUST_NOT_BE_STOP_MEDICATION = [
    "stop texting me",
    "stop messaging me",
    "pls stop sending me these texts",
    "quit texting me",
    "no more texts",
    "dont text me anymore",
    "stop the reminders",
    "STOP",
    "unsubscribe",
    "take me off this list",
    "stop bothering me",
    "i want these messages to stop",
]
MUST_NOT_BE_OUT_OF_SCOPE = [
    "I want to stop my lithium",
    "i want to stop taking my meds",
    "can i quit seroquel",
    "im done with lamictal",
    "thinking about stopping my zoloft",
    "i wanna come off my abilify",
]

model, heldout, out = sys.argv[1:4]
agent = Agent.load(model)
texts = []
for block in yaml.safe_load(open(heldout, encoding="utf-8"))["nlu"]:
    for line in (block.get("examples") or "").splitlines():
        if line.strip().startswith("- "):
            texts.append(re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line.strip()[2:]))


async def main():
    await agent.parse_message("warm up")
    times = []
    for text in texts:
        start = time.perf_counter()
        await agent.parse_message(text)
        times.append((time.perf_counter() - start) * 1000)
    probes = []
    for must_not, group in (
        ("stop_medication", MUST_NOT_BE_STOP_MEDICATION),
        ("out_of_scope", MUST_NOT_BE_OUT_OF_SCOPE),
    ):
        for text in group:
            parsed = await agent.parse_message(text)
            intent = parsed["intent"]
            # Under the FallbackClassifier's nlu_fallback, the classifier's own top intent.
            top = next(
                (r for r in parsed.get("intent_ranking") or [] if r["name"] != "nlu_fallback"),
                intent,
            )
            probes.append(
                {
                    "text": text,
                    "must_not_be": must_not,
                    "intent": intent["name"],
                    "confidence": round(float(intent.get("confidence") or 0), 3),
                    "top": top["name"],
                    "top_confidence": round(float(top.get("confidence") or 0), 3),
                    "ok": intent["name"] != must_not,
                }
            )
    times.sort()
    return {
        "parse_ms_median": round(statistics.median(times), 1),
        "parse_ms_p95": round(times[int(0.95 * (len(times) - 1))], 1),
        "parse_ms_max": round(times[-1], 1),
        "probes": probes,
    }


json.dump(asyncio.run(main()), open(out, "w"), indent=1)
PY

"$venv/bin/python" - "$out" "$heldout" "$config" "${seconds_file}" "$cmd" "$report" \
  "$min_recall" "$results" <<'PY'
"""Print the figures and write the markdown report."""
import datetime
import json
import pathlib
import sys
from collections import Counter

import yaml

out, heldout, config, seconds_file, cmd, report, min_recall, results = sys.argv[1:9]
out = pathlib.Path(out)
intent_report = json.loads((out / "intent_report.json").read_text())
errors = json.loads((out / "intent_errors.json").read_text())
successes_file = out / "intent_successes.json"
successes = json.loads(successes_file.read_text()) if successes_file.exists() else []
probes = json.loads((out / "probes.json").read_text())
seconds = pathlib.Path(seconds_file).read_text().strip()
cfg = yaml.safe_load(open(config, encoding="utf-8"))

labels = sorted(
    k for k, v in intent_report.items()
    if isinstance(v, dict) and "support" in v and k not in ("macro avg", "weighted avg", "micro avg")
)
macro = intent_report["macro avg"]["f1-score"]
weighted = intent_report["weighted avg"]["f1-score"]
accuracy = intent_report.get("accuracy")
if accuracy is None:  # sklearn reports micro avg instead when labels are missing
    accuracy = intent_report["micro avg"]["f1-score"]
total = sum(int(intent_report[l]["support"]) for l in labels)
self_harm = intent_report.get("self_harm", {})

# Confusion matrix: correct counts from support minus errors, errors by pair.
pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
predicted = sorted({p for _, p in pairs} | set(labels))
matrix = {t: Counter() for t in labels}
for (t, p), n in pairs.items():
    matrix.setdefault(t, Counter())[p] += n
for t in labels:
    matrix[t][t] = int(intent_report[t]["support"]) - sum(
        n for (tt, _), n in pairs.items() if tt == t
    )

# How many would the FallbackClassifier turn into nlu_fallback (top confidence < threshold)?
threshold = next(
    (c.get("threshold", 0.3) for c in cfg["pipeline"] if c["name"] == "FallbackClassifier"), None
)
everything = [
    (e.get("intent"), e.get("intent_prediction", {}).get("name"),
     float(e.get("intent_prediction", {}).get("confidence") or 0), e.get("text"))
    for e in errors + successes
]
low = [x for x in everything if threshold is not None and x[2] < threshold]
self_harm_low = [x for x in low if x[0] == "self_harm"]

entity_reports = {}
for f in sorted(out.glob("*_report.json")):
    if f.name in ("intent_report.json", "response_selection_report.json"):
        continue
    data = json.loads(f.read_text())
    entity_reports[f.name.replace("_report.json", "")] = data

failed_probes = [p for p in probes["probes"] if not p["ok"]]
recall = float(self_harm.get("recall", 0.0))

lines = []
w = lines.append
w("# NLU evaluation")
w("")
w(f"Generated by `{cmd}` on {datetime.date.today().isoformat()}. Do not edit by hand.")
w("")
w(f"- Model: NLU only, trained on `nlu/train/` with `{config}`; tested on `{heldout}` "
  f"({total} messages, {len(labels)} intents), which is never trained on.")
w("- Pipeline: " + " → ".join(
    c["name"] + (f" ({c['analyzer']} {c.get('min_ngram')}-{c.get('max_ngram')})"
                 if c.get("analyzer") else "")
    + (f" ({c['epochs']} epochs)" if c.get("epochs") else "")
    for c in cfg["pipeline"]))
w(f"- Training time: {seconds} s (2 cores)")
w(f"- Parse time (model loaded in-process, one message at a time): median "
  f"{probes['parse_ms_median']} ms, p95 {probes['parse_ms_p95']} ms, "
  f"max {probes['parse_ms_max']} ms")
w("")
w("## Intents")
w("")
w("| figure | value |")
w("|---|---|")
w(f"| macro-F1 | {macro:.3f} |")
w(f"| weighted F1 | {weighted:.3f} |")
w(f"| accuracy | {accuracy:.3f} |")
w(f"| self_harm recall | {recall:.3f} ({round(recall * self_harm.get('support', 0))}"
  f"/{self_harm.get('support', 0)}) |")
w(f"| self_harm precision | {float(self_harm.get('precision', 0)):.3f} |")
if threshold is not None:
    w(f"| below the fallback threshold ({threshold}) | {len(low)}/{total} "
      f"(self_harm: {len(self_harm_low)}) |")
w("")
w("Rasa's evaluation undoes the fallback, so the figures above score the top intent; "
  "the last row counts the messages the FallbackClassifier would answer with nlu_fallback "
  "(its ambiguity check aside).")
w("")
if low:
    w("Below the fallback threshold: " + "; ".join(
        f"\"{text}\" ({true} → {pred} {conf:.2f})"
        for true, pred, conf, text in sorted(low, key=lambda x: x[2])) + ".")
    w("")
w("| intent | precision | recall | F1 | support |")
w("|---|---|---|---|---|")
for l in sorted(labels, key=lambda l: intent_report[l]["f1-score"]):
    r = intent_report[l]
    w(f"| {l} | {r['precision']:.2f} | {r['recall']:.2f} | {r['f1-score']:.2f} | {r['support']} |")
w("")
w("## Confusions")
w("")
if pairs:
    w("| true intent | predicted | count | messages |")
    w("|---|---|---|---|")
    for (t, p), n in pairs.most_common():
        msgs = "; ".join(
            f"\"{e['text']}\" ({float(e['intent_prediction']['confidence']):.2f})"
            for e in errors if e["intent"] == t and e["intent_prediction"]["name"] == p
        )
        w(f"| {t} | {p} | {n} | {msgs.replace('|', '/')} |")
else:
    w("None.")
w("")
w("Confusion matrix (rows: true intent, columns: predicted; blank is 0):")
w("")
short = {l: l for l in predicted}
w("| true \\ predicted | " + " | ".join(short[p] for p in predicted) + " |")
w("|---|" + "---|" * len(predicted))
for t in labels:
    w(f"| **{t}** | " + " | ".join(
        (f"**{matrix[t][p]}**" if p == t else str(matrix[t][p])) if matrix[t][p] else ""
        for p in predicted) + " |")
w("")
w("## Safety probes")
w("")
w("Opt-out wording is handled by the compliance layer before the NLU, but the NLU must "
  "still never read it as stop_medication; a wish to stop a medicine must never be "
  "out_of_scope.")
w("")
w("| message | must not be | predicted | classifier's top intent | ok |")
w("|---|---|---|---|---|")
for p in probes["probes"]:
    w(f"| {p['text']} | {p['must_not_be']} | {p['intent']} | "
      f"{p['top']} {p['top_confidence']:.2f} | {'yes' if p['ok'] else '**NO**'} |")
w("")
if entity_reports:
    w("## Entities")
    w("")
    w("| extractor | entity | precision | recall | F1 | support |")
    w("|---|---|---|---|---|---|")
    for name, data in entity_reports.items():
        for ent, r in sorted(data.items()):
            if not isinstance(r, dict) or "support" not in r or ent in ("no_entity",):
                continue
            if ent.endswith(" avg") or ent == "accuracy":
                continue
            if name == "RegexEntityExtractor" and ent not in ("medication", "number"):
                continue  # it has patterns for these two only
            w(f"| {name} | {ent} | {r['precision']:.2f} | {r['recall']:.2f} | "
              f"{r['f1-score']:.2f} | {r['support']} |")
    w("")
w("The overlap of RegexEntityExtractor with the trained extractor is expected: the lookup "
  "table finds every listed medicine, the trained extractor generalises to unlisted ones "
  "and finds symptoms, times and number words.")
text = "\n".join(lines) + "\n"

print(text)
print(f"results folder (confusion matrix PNG): {results}")
if report:
    pathlib.Path(report).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(report).write_text(text, encoding="utf-8")
    print(f"wrote {report}")

problems = []
if failed_probes:
    problems.append(f"{len(failed_probes)} safety probe(s) failed")
if recall < float(min_recall):
    problems.append(f"self_harm recall {recall:.3f} is below {min_recall}")
if problems:
    sys.exit("NLU evaluation failed: " + "; ".join(problems))
PY
