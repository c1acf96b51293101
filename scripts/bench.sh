#!/usr/bin/env bash
# `make bench`: the benchmarks, on loopback only, bounded in time. Figures go to
# docs/benchmarks.md with the command that produced each.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
pg_env="$(bash scripts/setup_system.sh test)"
[ -n "$pg_env" ] && export "${pg_env?}"
bash scripts/setup_app.sh
# BENCH_SMALL=1 make bench: every benchmark with small parameters (a few minutes), written
# to ${BENCH_OUT:-/tmp/benchmarks-small.md} instead of docs/benchmarks.md.
out=docs/benchmarks.md
if [ -n "${BENCH_SMALL:-}" ]; then
  out="${BENCH_OUT:-/tmp/benchmarks-small.md}"
  [ -f "$out" ] || cp docs/benchmarks.md "$out"
  ack=(--rates 50 --duration 5 --find-max 100,200 --hold 5)
  checkins=(--patients 2000 --count-limited 5 --count-high 40)
  turns=(--scale 200,1000 --rates 5,10 --duration 8 --scale-rate 5 --scale-duration 5
    --rasa 1,2 --workers 2 --drain 60 --scheduler-seconds 5)
  page=(--requests 10)
  api=(--requests 5)
  jobs=(--jobs 20)
else
  ack=(--rates 50,200 --duration 30 --find-max 100,150,200,250,300,400 --hold 60)
  checkins=()
  turns=(--scale 1000,10000,100000 --rates 10,50 --duration 30 --rasa 1,2 --scale-duration 15
    --drain 75)
  page=(--requests 50)
  api=(--requests 20)
  jobs=(--jobs 100)
fi
say "webhook acknowledgement latency (50 and 200 requests/s, 30 s each; highest rate held 60 s)"
.venv/bin/python -m bench.webhook_ack "${ack[@]}" --out "$out" "$@"
say "check-ins: planning a day for 100 000 patients, dispatch through the send rate limit"
bash scripts/setup_node.sh
.venv/bin/python -m bench.checkins "${checkins[@]}" --out "$out"
say "end-to-end turns at 10 and 50/s with 1 and 2 Rasa servers, memory, growth 1k-100k"
.venv/bin/python -m bench.turns "${turns[@]}" --out "$out"
say "clinician patient page (a busy eight weeks, 50 requests per database)"
.venv/bin/python -m bench.patient_page "${page[@]}" --out "$out"
say "JSON API reads and FHIR export (the same busy patient, 20 requests per path and database)"
.venv/bin/python -m bench.api "${api[@]}" --out "$out"
say "RQ worker: CPU per job, forked per job against in-process"
.venv/bin/python -m bench.worker_jobs "${jobs[@]}" --out "$out"
say "benchmarks done in ${SECONDS} s; figures in $out"
