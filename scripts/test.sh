#!/usr/bin/env bash
# `make test`: everything CI runs. Installs and starts what the tests need, lints,
# type-checks, then runs the whole suite (unit, Rasa, end to end, browser).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
say "system packages and services"
pg_env="$(bash scripts/setup_system.sh test)"
[ -n "$pg_env" ] && export "${pg_env?}"
say "app environment"; bash scripts/setup_app.sh
say "Twilio API mock"; bash scripts/setup_node.sh
say "Rasa environment and model"; bash scripts/setup_rasa.sh >/dev/null; bash scripts/train_rasa.sh >/dev/null
say "lint and types"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
say "tests"
status=0
.venv/bin/pytest "$@" || status=$?
# pytest exits 5 when it ran no test: that is a failure here.
exit "$status"
