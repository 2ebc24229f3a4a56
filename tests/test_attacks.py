"""The attack suite of benchmarks/attacks.py: every case ends as intended (slow: `pytest -m slow`)."""
import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_every_attack_ends_as_intended(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("attacks", Path(__file__).parents[1] / "benchmarks" / "attacks.py")
    attacks = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "attacks", attacks)  # dataclasses look their module up there
    spec.loader.exec_module(attacks)
    results = attacks.run_suite(root=tmp_path)
    failed = [f"{case.group}: {case.name}: {problem}" for case, problem, _ in results if problem]
    assert len(results) >= 50 and not failed, "\n".join(failed)
