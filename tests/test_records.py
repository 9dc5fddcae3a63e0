"""Records along wrt: a dataclass of parameters, a NamedTuple, a dict with constant keys, read
field by field, and differentiated with a gradient of the same type (as JAX does with pytrees).

Each gradient is checked field by field against central differences taken here, by rebuilding
the record with one number moved, in both modes.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
from conftest import MODES, generated, imported, run

import ad_transpile as adt
from ad_transpile import TranspileError
from ad_transpile.api import _with_field  # rebuilds a record with one field moved

MODULE = '''
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


@dataclass
class Wave:
    omega: float
    phase: float


class Pair(NamedTuple):
    omega: float
    phase: float


@dataclass(frozen=True)
class Linear:
    W: np.ndarray
    b: float
    name: str = "linear"


def wave(p, x):
    return math.sin(p.omega * x + p.phase)


def wave_of_dict(p, x):
    return math.sin(p["omega"] * x + p["phase"])


def loss(p, X, y):
    r = X @ p.W + p.b - y
    return np.sum(r * r) / len(y)


def series(p, x, n):
    total = 0.0
    for i in range(n):
        total += p.omega * x ** i
        if total > p.phase:
            total = total * 0.5
    return total + p.phase


@dataclass
class Net:
    W: np.ndarray
    b: np.ndarray
    scale: float


def predict(p, X):
    return np.tanh(X @ p.W + p.b)


def penalty(p):
    return p.scale * np.sum(p.W * p.W)


def net_loss(params, X, y):
    r = predict(params, X) - y
    return np.mean(r * r) + penalty(params)


def twice(params, X, y):
    return net_loss(params, X, y) + 0.5 * np.sum(predict(params, X))


def dict_loss(params, X, y):
    r = np.tanh(X @ params["W"]) - y
    return np.mean(r * r) + regularizer(params)


def regularizer(q):
    return 0.1 * np.sum(q["W"] ** 2)


def uses_whole(p, x):
    return p.omega * x + len(p)


def passes_whole(p, x):
    return uses_whole(p, x) * p.phase


def pair(t, x):
    return math.sin(t[0] * x + t[1])


@dataclass
class Oscillator:
    omega: float
    damping: float
    label: str = "osc"

    def position(self, t):
        return math.exp(-self.damping * t) * math.cos(self.omega * t)

    def energy(self, t):
        return self.position(t) ** 2


class Spring:
    def __init__(self, k):
        self.k = k
        self.turns = 3

    def force(self, x):
        return math.sin(self.k * x) * self.turns


@dataclass
class Outer:
    inner: Oscillator
    scale: float


def nested(p, t):
    return p.scale * math.cos(p.inner.omega * t)


def reads_one(p, x, *, scale):
    return scale.b * p.omega * x
'''


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    return imported(MODULE, tmp_path_factory.mktemp("records"), "records_module")


def central(f, args, position, key, step=1e-6):
    """d f / d args[position].key, element by element, by central differences."""
    record = args[position]
    value = record[key] if isinstance(record, dict) else getattr(record, key)
    point = np.asarray(value, dtype=float)
    out = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        values = []
        for sign in (1.0, -1.0):
            shifted = point.copy()
            shifted[index] += sign * step
            new = shifted if shifted.shape else float(shifted)
            values.append(f(*args[:position], _with_field(record, key, new), *args[position + 1:]))
        out[index] = (values[0] - values[1]) / (2 * step)
    return out if out.shape else float(out)


def field(record, key):
    return record[key] if isinstance(record, dict) else getattr(record, key)


def check_record_gradient(f, args, keys, mode, position=0):
    gradient = adt.grad(f, wrt=position, mode=mode)(*args)
    assert type(gradient) is type(args[position])
    for key in keys:
        np.testing.assert_allclose(field(gradient, key), central(f, args, position, key),
                                   rtol=1e-6, atol=1e-8)
    return gradient


@pytest.mark.parametrize("mode", MODES)
def test_a_dataclass_of_parameters_gets_a_dataclass_gradient(module, mode):
    check_record_gradient(module.wave, (module.Wave(1.5, 0.1), 0.3), ["omega", "phase"], mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_named_tuple_gets_a_named_tuple_gradient(module, mode):
    check_record_gradient(module.wave, (module.Pair(1.5, 0.1), 0.3), ["omega", "phase"], mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_simple_namespace_gets_one_too(module, mode):
    args = (types.SimpleNamespace(omega=1.5, phase=0.1), -0.4)
    check_record_gradient(module.wave, args, ["omega", "phase"], mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_dict_with_constant_keys_gets_a_dict_gradient(module, mode):
    params = {"omega": 1.5, "phase": 0.1, "unused": 4.0, "label": "fit"}
    gradient = check_record_gradient(module.wave_of_dict, (params, 0.3), ["omega", "phase"],
                                     mode)
    assert list(gradient) == ["omega", "phase", "unused", "label"]
    assert gradient["unused"] == 0.0 and gradient["label"] == "fit"


@pytest.mark.parametrize("mode", MODES)
def test_array_fields_and_fields_the_function_does_not_read(module, mode):
    rng = np.random.default_rng(3)
    p = module.Linear(rng.normal(size=3), 0.4)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=5)
    gradient = check_record_gradient(module.loss, (p, X, y), ["W", "b"], mode)
    assert gradient.name == "linear" and gradient.W.shape == (3,)


@pytest.mark.parametrize("mode", MODES)
def test_a_record_read_in_loops_and_branches(module, mode):
    for p in (module.Wave(0.8, 0.5), module.Wave(0.8, 3.0)):
        check_record_gradient(module.series, (p, 1.3, 4), ["omega", "phase"], mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_record_beside_other_arguments_along_wrt(module, mode):
    p, x = module.Wave(1.5, 0.1), 0.3
    d_p, d_x = adt.grad(module.wave, wrt=(0, 1), mode=mode)(p, x)
    assert isinstance(d_p, module.Wave)
    assert d_x == pytest.approx(1.5 * np.cos(1.5 * x + 0.1), rel=1e-12)
    value, (d_p_again,) = adt.value_and_grad(module.wave, wrt=("p",), mode=mode)(p, x)
    assert value == module.wave(p, x) and d_p_again == d_p


@pytest.mark.parametrize("mode", MODES)
def test_a_record_of_constants_beside_wrt(module, mode):
    p, x = module.Wave(1.5, 0.1), 0.3
    d_x = adt.grad(module.wave, wrt=1, mode=mode)(p, x)
    assert d_x == pytest.approx(1.5 * np.cos(1.5 * x + 0.1), rel=1e-12)
    scale = module.Linear(np.zeros(1), 2.0)
    d_p = adt.grad(module.reads_one, mode=mode)(p, x, scale=scale)
    assert d_p.omega == pytest.approx(2.0 * x) and d_p.phase == 0.0


def test_check_grad_compares_a_record_field_by_field(module):
    adt.check_grad(module.wave, module.Wave(1.5, 0.1), 0.3)
    with pytest.raises(AssertionError, match=r"with respect to p\.omega"):
        adt.check_grad(module.wave, module.Wave(1.5, 0.1), 0.3, rtol=-1.0)


def test_the_generated_code_reads_the_fields_and_packs_their_gradients():
    src = "import math\n\n\ndef wave(p, x):\n    return math.sin(p.omega * x + p.phase)\n"
    text = generated(src, "p")
    assert "def wave_fields_pr(p_omega, p_phase, x):" in text
    assert "d_p_omega, d_p_phase = wave_fields_pr(p.omega, p.phase, x)" in text
    assert 'return _like_record(p, {"omega": d_p_omega, "phase": d_p_phase})' in text


def test_the_command_line_writes_a_file_that_runs_alone(module, tmp_path):
    source = tmp_path / "waves.py"
    source.write_text(MODULE, encoding="utf-8")
    out = tmp_path / "wave_pr.py"
    result = run("grad", f"{source}::wave", "--wrt", "p", "-o", out)
    assert result.exit_code == 0, result.output
    namespace: dict = {}
    exec(compile(out.read_text(encoding="utf-8"), str(out), "exec"), namespace)
    gradient = namespace["wave_pr"](module.Wave(1.5, 0.1), 0.3)
    assert gradient == adt.grad(module.wave)(module.Wave(1.5, 0.1), 0.3)
    assert run("check", out).exit_code == 0


REFUSED = [
    # used whole as well as by field: not a record
    ("def f(p, x):\n    q = p\n    return q.omega * x + p.phase\n", "q.omega"),
    ("def f(p, x):\n    return g(p) * x + p.omega\n\n\ndef g(p):\n    return p.omega * len(p)\n",
     "p.omega"),
]


@pytest.mark.parametrize("src, what", REFUSED)
def test_a_record_also_used_whole_is_refused(src, what):
    with pytest.raises(TranspileError, match=f"reading '{what}' is not supported"):
        generated(src, "p")


@pytest.mark.parametrize("api", [adt.jvp, adt.vjp, adt.hessian])
def test_other_derivatives_of_a_record_are_refused_where_asked(module, api):
    with pytest.raises(TranspileError, match=r"records_module\.py:\d+:1: .*record"):
        api(module.wave)(module.Wave(1.5, 0.1), 0.3, 1.0)


@pytest.mark.parametrize("mode", MODES)
def test_a_tuple_of_numbers_gets_a_tuple_gradient(module, mode):
    gradient = adt.grad(module.pair, mode=mode)((1.5, 0.1), 0.3)
    assert type(gradient) is tuple
    np.testing.assert_allclose(gradient, [0.3 * np.cos(0.55), np.cos(0.55)], rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_a_field_of_a_method_s_receiver_asked_for_by_name(module, mode):
    oscillator = module.Oscillator(1.5, 0.2)
    d_omega = adt.grad(oscillator.position, wrt="self.omega", mode=mode)(0.7)
    assert d_omega == pytest.approx(central(module.Oscillator.position, (oscillator, 0.7), 0,
                                            "omega"), rel=1e-7)
    d_damping, d_t = adt.grad(oscillator.position, wrt=("self.damping", "t"), mode=mode)(0.7)
    assert d_damping == pytest.approx(central(module.Oscillator.position, (oscillator, 0.7),
                                              0, "damping"), rel=1e-7)
    assert d_t == pytest.approx((oscillator.position(0.7 + 1e-6)
                                 - oscillator.position(0.7 - 1e-6)) / 2e-6, rel=1e-7)
    adt.check_grad(oscillator.position, 0.7, wrt="self.omega", mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_the_receiver_itself_as_wrt_gets_a_gradient_of_its_class(module, mode):
    check_record_gradient(module.Oscillator.position, (module.Oscillator(1.5, 0.2), 0.7),
                          ["omega", "damping"], mode)
    spring = module.Spring(2.0)
    gradient = check_record_gradient(module.Spring.force, (spring, 0.3), ["k", "turns"], mode)
    assert gradient is not spring and spring.k == 2.0  # a new object: the old one as it was


@pytest.mark.parametrize("mode", MODES)
def test_a_record_of_records(module, mode):
    outer = module.Outer(module.Oscillator(1.5, 0.2), 2.0)
    gradient = adt.grad(module.nested, mode=mode)(outer, 0.7)
    assert isinstance(gradient.inner, module.Oscillator) and gradient.inner.damping == 0.0
    inner = central(lambda o, t: module.nested(module.Outer(o, 2.0), t),
                    (outer.inner, 0.7), 0, "omega")
    assert gradient.inner.omega == pytest.approx(inner, rel=1e-7)
    assert gradient.scale == pytest.approx(central(module.nested, (outer, 0.7), 0, "scale"))


@pytest.mark.parametrize("wrt, message", [
    ("self.zeta", r"'self.zeta': position does not read self.zeta"),
])
def test_a_field_the_function_does_not_read_is_refused(module, wrt, message):
    with pytest.raises(TranspileError, match=message):
        adt.grad(module.Oscillator(1.5, 0.2).position, wrt=wrt)


def test_a_receiver_used_whole_is_refused_as_wrt(module):
    with pytest.raises(TranspileError, match="'self': the receiver of a method is read as a "
                                             "constant, unless it is only read field by field"):
        adt.grad(module.Oscillator.energy, wrt="self")


def test_the_command_line_takes_a_field_as_wrt(module, tmp_path):
    source = tmp_path / "waves.py"
    source.write_text(MODULE, encoding="utf-8")
    out = tmp_path / "wave_omega.py"
    assert run("grad", f"{source}::wave", "--wrt", "p.omega", "-o", out).exit_code == 0
    namespace: dict = {}
    exec(compile(out.read_text(encoding="utf-8"), str(out), "exec"), namespace)
    p = module.Wave(1.5, 0.1)
    assert namespace["wave_pr"](p, 0.3) == pytest.approx(central(module.wave, (p, 0.3), 0,
                                                                 "omega"), rel=1e-7)
    assert run("check", out).exit_code == 0
    refused = run("grad", f"{source}::wave", "--wrt", "p.zeta")
    assert refused.exit_code == 2 and "wave does not read p.zeta" in refused.output


def test_an_array_s_own_attributes_are_not_fields():
    # x.real reads an array whole: refused as before, never a record whose gradient would crash
    src = "import numpy as np\n\n\ndef f(x):\n    return np.sum(x.real * x.T)\n"
    with pytest.raises(TranspileError, match="reading 'x.real' is not supported"):
        generated(src, 0)


@pytest.mark.parametrize("mode", MODES)
def test_a_record_passed_on_to_the_user_s_functions(module, mode):
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=5)
    net = module.Net(rng.normal(size=3), np.array([0.2]), 0.3)
    for f in (module.net_loss, module.twice):
        gradient = check_record_gradient(f, (net, X, y), ["W", "b", "scale"], mode)
        assert type(gradient.scale) is float and gradient.b.shape == (1,)
    check_record_gradient(module.dict_loss, ({"W": net.W, "rate": 0.1}, X, y), ["W"], mode)


def test_a_record_passed_on_is_flattened_in_the_callee_too():
    text = generated(MODULE, "params", name="net_loss")
    assert "def predict_fields_pr(p_W, p_b, X, d_predict_fields):" in text, text
    assert "def penalty_fields_pr(p_scale, p_W, d_penalty_fields):" in text, text


def test_a_record_a_callee_uses_whole_is_refused(module):
    with pytest.raises(TranspileError, match="reading 'p.phase' is not supported"):
        adt.grad(module.passes_whole)(module.Wave(1.5, 0.1), 0.3)
