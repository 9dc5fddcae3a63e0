"""The fitting samples, run as the README runs them: the parameters each recovers, within the
tolerances the README states."""

from __future__ import annotations

import runpy

import numpy as np
import pytest
from conftest import ROOT


def sample(name: str) -> dict:
    """A sample's functions, as ``python samples/NAME.py`` defines them (without running main)."""
    return runpy.run_path(str(ROOT / "samples" / f"{name}.py"))


def test_sine_one_run_is_trapped_and_multi_start_recovers_omega(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    single, result = sample("sine_program")["main"]()
    assert single.params["omega"] == pytest.approx(0.7396, abs=1e-3)
    assert abs(result.params["omega"] - 1.5) < 0.01 and result.different_minima
    assert "different minima" in capsys.readouterr().out


def test_amplitude_and_frequency_are_recovered_from_noisy_tests(capsys):
    result = sample("amplitude_frequency")["main"]()
    assert result.params["amplitude"] == pytest.approx(2.0, abs=0.05)
    assert result.params["frequency"] == pytest.approx(1.3, abs=0.01)
    assert result.converged


def test_the_classifier_reaches_the_maximum_likelihood_weights(capsys):
    classifier = sample("classifier")
    result = classifier["main"]()
    tests = classifier["soft_tests"]()
    # the maximum-likelihood weights by Newton's method, independently of ad-transpile
    features = np.array([[x1, x2, 1.0] for (x1, x2), _ in tests])
    labels = np.array([label for _, label in tests])
    weights = np.zeros(3)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-features @ weights))
        hessian = features.T @ (features * (p * (1 - p))[:, None])
        weights += np.linalg.solve(hessian, features.T @ (labels - p))
    assert list(result.params.values()) == pytest.approx(weights.tolist(), abs=1e-4)
    assert list(result.params.values()) == pytest.approx([2.0, -1.0, 0.5], abs=0.4)
    assert classifier["accuracy"](result.params, tests) > 0.7


def test_the_projectile_lands_on_its_targets_with_the_true_launch(capsys):
    result = sample("projectile")["main"]()
    assert result.params == pytest.approx({"angle": 0.7, "speed": 25.0}, abs=1e-5)
    assert max(result.scores) < 1e-12


def test_the_projectile_gradient_agrees_with_finite_differences():
    import ad_transpile as adt

    adt.check_grad(sample("projectile")["landing"], 3.0, 0.6, 20.0, wrt=("angle", "speed"))
