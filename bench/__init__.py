"""Benchmarks run by `make bench`; each module is runnable with `python -m bench.<name>`."""
