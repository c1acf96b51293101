#!/usr/bin/env bash
# `make bench`: the benchmarks, on loopback only, bounded in time. Figures go to
# docs/benchmarks.md with the command that produced each.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
pg_env="$(bash scripts/setup_system.sh test)"
[ -n "$pg_env" ] && export "${pg_env?}"
bash scripts/setup_app.sh
say "webhook acknowledgement latency (50 and 200 requests/s, 30 s each)"
.venv/bin/python -m bench.webhook_ack --rates 50,200 --duration 30 --out docs/benchmarks.md "$@"
say "check-ins: planning a day for 100 000 patients, dispatch through the send rate limit"
bash scripts/setup_node.sh
.venv/bin/python -m bench.checkins --out docs/benchmarks.md
say "clinician patient page (a busy eight weeks, 50 requests per database)"
.venv/bin/python -m bench.patient_page --requests 50 --out docs/benchmarks.md
say "JSON API reads and FHIR export (the same busy patient, 20 requests per path and database)"
.venv/bin/python -m bench.api --requests 20 --out docs/benchmarks.md
