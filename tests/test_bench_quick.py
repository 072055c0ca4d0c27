"""`python -m bench --quick` keeps running, so the benchmarks cannot rot (figures are not checked:
timings belong in the benchmark's table, never in the test suite's assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_runs_and_prints_the_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| section | measure | Hearth | baseline | ratio | target | met |" in done.stdout
    for section in ("1 interactions", "2 contention", "3 scheduler", "4 store", "5 memory"):
        assert f"| {section} |" in done.stdout, section
