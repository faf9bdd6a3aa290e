"""Benchmarks: `uv run python -m bench.<name>`; numbers land in bench/results/."""
