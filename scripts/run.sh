#!/usr/bin/env bash
# `make run`: install what is missing, then start the whole stack on embedded defaults.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
say "1/6 system packages"; bash scripts/setup_system.sh run >/dev/null
say "2/6 app environment (.venv)"; bash scripts/setup_app.sh
say "3/6 Rasa environment"; venv="$(bash scripts/setup_rasa.sh)"
say "4/6 Rasa model"; model="$(bash scripts/train_rasa.sh)"
say "5/6 Twilio API mock and database"
if [ "${SMS_TRANSPORT:-simulator}" = "twilio" ]; then bash scripts/setup_node.sh; fi
.venv/bin/medfollow db upgrade
.venv/bin/medfollow demo seed
say "6/6 starting the stack (Ctrl-C stops everything)"
exec .venv/bin/medfollow run --rasa-venv "$venv" --model "$model"
