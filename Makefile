# The two commands that matter: `make demo` and `make test`. Both run set-up first (idempotent).
.PHONY: setup test demo lint unit bench clean

setup:
	bash scripts/setup.sh

test: setup lint
	.venv/bin/pytest -q

unit: setup
	.venv/bin/pytest -q -m "not model"

lint:
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/ruff format --check src tests benchmarks
	.venv/bin/mypy

demo: setup
	.venv/bin/rixin demo

bench: setup
	.venv/bin/python benchmarks/constrained_decoding.py
	.venv/bin/python benchmarks/sandbox.py
	.venv/bin/python benchmarks/server.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
