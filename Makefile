# Two commands do all set-up on a fresh machine: `make run` and `make test`.
.PHONY: run test bench lint typecheck bot-validate clean

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

bench:
	@bash scripts/bench.sh

lint:
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

typecheck:
	@.venv/bin/mypy

bot-validate:
	@.venv/bin/pytest tests/bot -q

clean:
	rm -rf var test-artifacts .pytest_cache .mypy_cache .ruff_cache
