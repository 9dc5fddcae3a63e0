"""The test loop as the README describes it: the default and full counts of the random-program
searches, the Pythons CI runs, and the full searches CI runs once."""

from __future__ import annotations

import re

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
SEARCHES = ("test_random_programs.py", "test_random_array_programs.py", "test_higher.py")


def counts(module: str) -> tuple[int, int]:
    """The (default, full) counts of the search in ``module``."""
    text = (ROOT / "tests" / module).read_text(encoding="utf-8")
    call = re.search(r'program_count\("\w+", (\w+), (\d+)\)', text)
    default, full = call.groups()
    if not default.isdigit():
        default = re.search(rf"^{default} = (\d+)", text, re.M).group(1)
    return int(default), int(full)


def test_the_readme_states_the_counts_the_searches_use():
    (scalar, scalar_full), (array, array_full), (higher, higher_full) = map(counts, SEARCHES)
    assert (f"{scalar} scalar programs, {array} NumPy programs" in README
            and f"{higher} second derivatives" in README)
    assert f"full count ({scalar_full}, {array_full}\n  and {higher_full})" in README


def test_ci_runs_every_supported_python_and_the_full_searches_once():
    pythons = re.search(r'AD_TRANSPILE_PYTHONS:-([\d. ]+)\}', CI).group(1).split()
    assert pythons == ["3.10", "3.11", "3.12", "3.13"]
    full_run = CI[CI.index("AD_TRANSPILE_FULL=1"):]
    assert all(f"tests/{module}" in full_run for module in SEARCHES)
