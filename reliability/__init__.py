"""The reliability suite (issue 13, crash safety): faults injected from outside the pipeline.

`python -m reliability [--quick]` (or `make reliability`) runs every scenario against
`stuut-pipeline run` subprocesses and prints one table; RELIABILITY.md holds the figures.
Scripts, not part of the installed library (like benchmarks/).
"""
