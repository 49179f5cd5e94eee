"""``python -m benchmarks [--quick | --full | --sizes RxYxI ...]``: see benchmarks/run.py and README.md."""

from benchmarks.run import main

main()
