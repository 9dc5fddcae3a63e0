"""Every derivative rule, checked against central finite differences in both modes and to order two.

One row per rule: the call as a user writes it, the interval(s) each argument is drawn from (away
from kinks, poles and branch cuts), and, for a rule whose derivative cannot be differentiated again
yet, the error that says so. That error is checked too, so a fixed limitation shows up here.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

import numpy as np
import pytest
from conftest import (
    MODES,
    check_gradient,
    derivative,
    generated,
    imported,
    numeric_gradient,
    primal,
)

import ad_transpile as adt
from ad_transpile.registry import builtin

# A domain is one or more intervals; each point is drawn from one of them, uniformly.
Domain = tuple[tuple[float, float], ...]
REAL: Domain = ((-3.0, 3.0),)
POSITIVE: Domain = ((0.2, 3.0),)
NONZERO: Domain = ((-3.0, -0.2), (0.2, 3.0))  # a kink (abs, copysign) or a pole (1/x) at 0
UNIT: Domain = ((-0.9, 0.9),)  # inside (-1, 1), where asin, acos and atanh are defined
ABOVE_ONE: Domain = ((1.1, 3.0),)  # acosh
ABOVE_MINUS_ONE: Domain = ((-0.8, 3.0),)  # log1p
NO_POLE: Domain = ((-1.2, 1.2),)  # tan, away from its poles at +-pi/2
BASE: Domain = ((1.5, 5.0),)  # a logarithm's base, away from 1
PROBABILITY: Domain = ((0.1, 0.9),)  # logit
GAMMA: Domain = ((-2.8, -2.2), (-0.7, -0.3), (0.2, 4.0))  # away from the poles at 0, -1, ...
# For min and max: the first argument is far from the second, on either side of it.
FAR: Domain = ((-3.0, -1.0), (1.0, 3.0))
NEAR: Domain = ((-0.5, 0.5),)
# For a % b: a / b stays strictly between two integers (2 and 3, or -3 and -2).
DIVIDEND: Domain = ((-5.8, -5.2), (5.2, 5.8))
DIVISOR: Domain = ((2.0, 2.5),)


class Rule(NamedTuple):
    call: str  # as a user writes it, in the arguments a and b
    domains: tuple[Domain, ...]  # one per argument
    # The error its derivative gives when differentiated again, while that is not possible yet
    # (no rule needs this now: min and max's conditional partials differentiate to 0.0).
    not_twice: str = ""


TABLE = [
    # builtins
    Rule("abs(a)", (NONZERO,)),
    Rule("float(a)", (REAL,)),
    Rule("max(a, b)", (FAR, NEAR)),
    Rule("min(a, b)", (FAR, NEAR)),
    Rule("pow(a, b)", (POSITIVE, REAL)),
    # operators
    Rule("a + b", (REAL, REAL)),
    Rule("a - b", (REAL, REAL)),
    Rule("a * b", (REAL, REAL)),
    Rule("a / b", (REAL, NONZERO)),
    Rule("a ** b", (POSITIVE, REAL)),
    Rule("a % b", (DIVIDEND, DIVISOR)),
    Rule("-a", (REAL,)),
    Rule("+a", (REAL,)),
    # math
    Rule("math.sin(a)", (REAL,)),
    Rule("math.cos(a)", (REAL,)),
    Rule("math.tan(a)", (NO_POLE,)),
    Rule("math.asin(a)", (UNIT,)),
    Rule("math.acos(a)", (UNIT,)),
    Rule("math.atan(a)", (REAL,)),
    Rule("math.atan2(a, b)", (NONZERO, REAL)),
    Rule("math.sinh(a)", (REAL,)),
    Rule("math.cosh(a)", (REAL,)),
    Rule("math.tanh(a)", (REAL,)),
    Rule("math.asinh(a)", (REAL,)),
    Rule("math.acosh(a)", (ABOVE_ONE,)),
    Rule("math.atanh(a)", (UNIT,)),
    Rule("math.exp(a)", (REAL,)),
    Rule("math.expm1(a)", (REAL,)),
    Rule("math.log(a)", (POSITIVE,)),
    Rule("math.log(a, b)", (POSITIVE, BASE)),
    Rule("math.log1p(a)", (ABOVE_MINUS_ONE,)),
    Rule("math.log2(a)", (POSITIVE,)),
    Rule("math.log10(a)", (POSITIVE,)),
    Rule("math.sqrt(a)", (POSITIVE,)),
    Rule("math.pow(a, b)", (POSITIVE, REAL)),
    Rule("math.hypot(a, b)", (NONZERO, REAL)),
    Rule("math.fabs(a)", (NONZERO,)),
    Rule("math.gamma(a)", (GAMMA,)),
    Rule("math.lgamma(a)", (GAMMA,)),
    Rule("math.erf(a)", (REAL,)),
    Rule("math.erfc(a)", (REAL,)),
    Rule("math.radians(a)", (REAL,)),
    Rule("math.degrees(a)", (REAL,)),
    Rule("math.copysign(a, b)", (NONZERO, NONZERO)),
    # numpy
    Rule("np.sin(a)", (REAL,)),
    Rule("np.cos(a)", (REAL,)),
    Rule("np.tan(a)", (NO_POLE,)),
    Rule("np.arcsin(a)", (UNIT,)),
    Rule("np.arccos(a)", (UNIT,)),
    Rule("np.arctan(a)", (REAL,)),
    Rule("np.arctan2(a, b)", (NONZERO, REAL)),
    Rule("np.sinh(a)", (REAL,)),
    Rule("np.cosh(a)", (REAL,)),
    Rule("np.tanh(a)", (REAL,)),
    Rule("np.arcsinh(a)", (REAL,)),
    Rule("np.arccosh(a)", (ABOVE_ONE,)),
    Rule("np.arctanh(a)", (UNIT,)),
    Rule("np.exp(a)", (REAL,)),
    Rule("np.exp2(a)", (REAL,)),
    Rule("np.expm1(a)", (REAL,)),
    Rule("np.log(a)", (POSITIVE,)),
    Rule("np.log1p(a)", (ABOVE_MINUS_ONE,)),
    Rule("np.log2(a)", (POSITIVE,)),
    Rule("np.log10(a)", (POSITIVE,)),
    Rule("np.sqrt(a)", (POSITIVE,)),
    Rule("np.cbrt(a)", (NONZERO,)),
    Rule("np.square(a)", (REAL,)),
    Rule("np.reciprocal(a)", (NONZERO,)),
    Rule("np.power(a, b)", (POSITIVE, REAL)),
    Rule("np.hypot(a, b)", (NONZERO, REAL)),
    Rule("np.abs(a)", (NONZERO,)),
    Rule("np.absolute(a)", (NONZERO,)),
    Rule("np.fabs(a)", (NONZERO,)),
    Rule("np.negative(a)", (REAL,)),
    Rule("np.add(a, b)", (REAL, REAL)),
    Rule("np.subtract(a, b)", (REAL, REAL)),
    Rule("np.multiply(a, b)", (REAL, REAL)),
    Rule("np.divide(a, b)", (REAL, NONZERO)),
    Rule("np.maximum(a, b)", (FAR, NEAR)),
    Rule("np.minimum(a, b)", (FAR, NEAR)),
    Rule("np.fmax(a, b)", (FAR, NEAR)),
    Rule("np.fmin(a, b)", (FAR, NEAR)),
    Rule("np.float_power(a, b)", (POSITIVE, REAL)),
    Rule("np.copysign(a, b)", (NONZERO, NONZERO)),
    Rule("np.nan_to_num(a)", (REAL,)),
    Rule("np.logaddexp(a, b)", (REAL, REAL)),
    Rule("np.logaddexp2(a, b)", (REAL, REAL)),
    Rule("np.true_divide(a, b)", (REAL, NONZERO)),
    Rule("np.mod(a, b)", (DIVIDEND, DIVISOR)),
    Rule("np.remainder(a, b)", (DIVIDEND, DIVISOR)),
    Rule("np.fmod(a, b)", (DIVIDEND, DIVISOR)),
    Rule("np.deg2rad(a)", (REAL,)),
    Rule("np.radians(a)", (REAL,)),
    Rule("np.rad2deg(a)", (REAL,)),
    Rule("np.degrees(a)", (REAL,)),
    Rule("np.positive(a)", (REAL,)),
    Rule("np.sinc(a)", (NONZERO,)),
    Rule("np.float64(a)", (REAL,)),
    Rule("np.copy(a)", (REAL,)),
    Rule("np.where(a > b, a, b)", (FAR, NEAR)),
    Rule("np.clip(a, b, 2.0)", (FAR, NEAR)),
    # NumPy 2's array-API names of the functions above: the same rules
    Rule("np.asin(a)", (UNIT,)),
    Rule("np.acos(a)", (UNIT,)),
    Rule("np.atan(a)", (REAL,)),
    Rule("np.atan2(a, b)", (NONZERO, REAL)),
    Rule("np.asinh(a)", (REAL,)),
    Rule("np.acosh(a)", (ABOVE_ONE,)),
    Rule("np.atanh(a)", (UNIT,)),
    Rule("np.pow(a, b)", (POSITIVE, REAL)),
    # scipy.special (an optional dependency; the test extra installs it)
    Rule("scipy.special.expit(a)", (REAL,)),
    Rule("scipy.special.logit(a)", (PROBABILITY,)),
    Rule("scipy.special.erf(a)", (REAL,)),
    Rule("scipy.special.erfc(a)", (REAL,)),
    Rule("scipy.special.erfinv(a)", (UNIT,)),
    Rule("scipy.special.ndtr(a)", (REAL,)),
    Rule("scipy.special.log_ndtr(a)", (REAL,)),
    Rule("scipy.special.gamma(a)", (POSITIVE,)),
    Rule("scipy.special.gammaln(a)", (POSITIVE,)),
    Rule("scipy.special.digamma(a)", (POSITIVE,)),
    Rule("scipy.special.polygamma(1, a)", (POSITIVE,)),
    Rule("scipy.special.xlogy(a, b)", (REAL, POSITIVE)),
    Rule("scipy.special.xlog1py(a, b)", (REAL, ABOVE_MINUS_ONE)),
]

# Nondifferentiable functions, written so that a and b reach them; their derivative is zero.
STEPS = [
    "math.floor(a)", "math.ceil(a)", "math.trunc(a)", "round(a)", "int(a)", "bool(a)",
    "a // b", "a < b", "a <= b", "a > b", "a >= b", "a == b", "a != b", "not a", "a is b",
    "a is not b", "b in range(3)", "len(range(3))", "isinstance(a, float)",
    "math.isclose(a, b)", "math.isnan(a)", "math.isinf(a)",
    "np.floor(a)", "np.ceil(a)", "np.trunc(a)", "np.rint(a)", "np.round(a)", "np.sign(a)",
    "np.isnan(a)", "np.isinf(a)", "np.isfinite(a)", "np.around(a)",
    "np.floor_divide(a, b)", "np.heaviside(a, 0.5)", "np.signbit(a)", "np.not_equal(a, b)",
    "np.logical_and(a > 0.0, b > 0.0)", "np.logical_or(a > 0.0, b > 0.0)",
    "np.logical_not(a > b)", "np.logical_xor(a > 0.0, b > 0.0)",
]
# Rounding goes down and up; the last point has a == b and b in range(3).
STEP_POINTS = [(2.7, 1.3), (-1.4, 2.6), (0.3, -0.8), (2.0, 2.0)]

POINTS = 4  # random points per rule
SEED = 20240


def source(body: str, params: str = "a, b") -> str:
    scipy = "import scipy.special\n" if "scipy." in body else ""
    return (f"import math\n\nimport numpy as np\n{scipy}\n\ndef f({params}):\n"
            f"    return {body}\n")


def rule_source(rule: Rule) -> str:
    return source(rule.call, ", ".join("ab"[: len(rule.domains)]))


def points(rule: Rule) -> list[tuple[float, ...]]:
    """Seeded random arguments, each drawn from one of its domain's intervals."""
    rng = np.random.default_rng(SEED)
    drawn = []
    for _ in range(POINTS):
        intervals = [domain[rng.integers(len(domain))] for domain in rule.domains]
        drawn.append(tuple(float(rng.uniform(low, high)) for low, high in intervals))
    return drawn


OPERATORS = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv", ast.Pow: "pow",
    ast.Mod: "mod", ast.FloorDiv: "floordiv", ast.USub: "neg", ast.UAdd: "pos", ast.Not: "not_",
    ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne",
    ast.Is: "is_", ast.IsNot: "is_not", ast.In: "contains",
}


def primitive(node: ast.AST) -> str | None:
    """The qualified name the registry gives to the operation at ``node``, if it is one."""
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return f"operator.{OPERATORS[type(node.op)]}"
    if isinstance(node, ast.Compare):
        return f"operator.{OPERATORS[type(node.ops[0])]}"
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        return name.replace("np.", "numpy.", 1) if "." in name else f"builtins.{name}"
    return None


def rule_key(call: str) -> tuple[str | None, int]:
    """The registry's key for ``call``: the primitive's qualified name and its arity."""
    node = ast.parse(call, mode="eval").body
    if isinstance(node, ast.Call):
        return primitive(node), len(node.args) + len(node.keywords)
    return primitive(node), 2 if isinstance(node, ast.BinOp) else 1


# Each rule's tests run in one worker under xdist, so that its derivatives are made once
# (conftest memoizes them per process) for the checks of every mode and order.
RULES = [pytest.param(rule, id=rule.call, marks=pytest.mark.xdist_group(f"rule {rule.call}"))
         for rule in TABLE]


def test_the_table_covers_every_rule():
    elementwise = [key for key, rule in builtin().rules.items() if not rule.structural]
    # digamma, the derivative of math.gamma and math.lgamma: their second derivatives use it
    helpers = [("ad_transpile.runtime._digamma", 1)]
    assert sorted(elementwise) == sorted([*helpers, *(rule_key(rule.call) for rule in TABLE)])


@pytest.mark.parametrize("function", ["math.gamma", "math.lgamma"])
def test_a_third_derivative_of_gamma_is_refused(function):
    """Its second derivative calls trigamma, which has no rule."""
    second = generated(generated(source(f"{function}(a)", "a")), 0, "forward", name="fpr")
    with pytest.raises(adt.TranspileError, match=r"no derivative rule for 'ad_transpile\.runtime\."
                       "_trigamma'"):
        generated(second, 0, "forward", name="fpr_jvp")


def test_digamma_and_trigamma_match_scipy():
    """The runtime's own digamma and its derivative, on both sides of 1/2 and 10, where their
    reflection and series begin, and between the poles at 0, -1, -2, ..."""
    special = pytest.importorskip("scipy.special")
    from ad_transpile.runtime import _digamma, _trigamma

    xs = np.concatenate([np.linspace(-7.9, -0.1, 300) + 1e-3, np.linspace(0.01, 60.0, 900),
                         [1e-8, 0.5, 6.0, 10.0, 1e5]])
    for x in xs:
        assert _digamma(float(x)) == pytest.approx(special.digamma(x), rel=1e-13, abs=1e-13)
        assert _trigamma(float(x)) == pytest.approx(special.polygamma(1, x), rel=1e-13)


def test_the_steps_cover_every_nondifferentiable_function():
    from test_batched_forward import HELPERS_DIFFERENTIATED_AGAIN
    from test_numpy_rules import STEPS as ARRAY_STEPS

    mentioned = {primitive(n) for s in STEPS + ARRAY_STEPS
                 for n in ast.walk(ast.parse(s, mode="eval"))}
    # x.dtype, and the mask of np.max's adjoint (the max cases of test_numpy_rules, twice)
    mentioned |= {"numpy.dtype", "ad_transpile.runtime._extreme_mask"}
    # the axes that the adjoints of np.dot, np.inner and np.tensordot sum over (twice)
    mentioned |= {f"ad_transpile.runtime._{h}_axes" for h in ("dot", "inner", "tensordot")}
    # the shapes in batched forward-mode files, differentiated again in test_batched_forward
    mentioned |= {f"ad_transpile.runtime.{h}" for h in HELPERS_DIFFERENTIATED_AGAIN}
    # the mask of np.ptp, the mode check of np.pad,
    # np.rollaxis's destination, np.gradient's axis, np.interp's
    # slopes, np.select's choices: test_numpy_rules differentiates them again
    mentioned |= {f"ad_transpile.runtime.{h}" for h in (
        "_ptp_mask", "_linear_pad", "_rolled_to",
        "_gradient_axis", "_interp_slopes", "_chosen")}
    assert builtin().nondifferentiable <= mentioned


@pytest.mark.parametrize("rule", RULES)
def test_every_argument_matches_finite_differences(rule):
    arguments = tuple(range(len(rule.domains)))
    each_alone = [(i,) for i in arguments]
    for args in points(rule):
        for wrt in each_alone if len(arguments) == 1 else [*each_alone, arguments]:
            check_gradient(rule_source(rule), args, wrt=wrt)


@pytest.mark.parametrize("rule", RULES)
def test_hessian_matches_finite_differences_of_the_gradient(rule, tmp_path):
    f = imported(rule_source(rule), tmp_path, "rule_under_test").f
    for i in range(len(rule.domains)):
        if rule.not_twice:
            with pytest.raises(adt.TranspileError, match=rule.not_twice):
                adt.hessian(f, i)
            continue
        second, first = adt.hessian(f, i), adt.grad(f, i)
        for args in points(rule):
            np.testing.assert_allclose(
                second(*args), numeric_gradient(first, args, i), rtol=1e-5, atol=1e-6,
                err_msg=f"d2/d{'ab'[i]}2 {rule.call} at {args}",
            )


# forward over reverse is what adt.hessian does: the test above checks it for every rule
AGAIN = [("reverse", "reverse"), ("forward", "reverse"), ("forward", "forward")]


@pytest.mark.parametrize(("inner", "outer"), AGAIN)
@pytest.mark.parametrize("rule", RULES)
def test_generated_derivative_differentiates_again_in_every_mode(rule, inner, outer):
    src = rule_source(rule)
    for i in range(len(rule.domains)):
        first_text = generated(src, i, inner)
        if rule.not_twice:
            with pytest.raises(adt.TranspileError, match=rule.not_twice):
                generated(first_text, i, outer, name="fpr")
            continue
        first = derivative(src, i, inner)
        second = derivative(first_text, i, outer, name="fpr")
        for args in points(rule):
            np.testing.assert_allclose(
                second(*args), numeric_gradient(first, args, i), rtol=1e-5, atol=1e-6,
                err_msg=f"d2/d{'ab'[i]}2 {rule.call} at {args}\n{first_text}",
            )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("step", STEPS)
def test_nondifferentiable_function_has_derivative_zero(step, mode):
    alone = derivative(source(step), (0, 1), mode)
    # The product rule with a zero derivative for the step leaves the step itself.
    times_a = derivative(source(f"({step}) * a"), (0, 1), mode)
    value = primal(source(step))
    for a, b in STEP_POINTS:
        assert alone(a, b) == (0.0, 0.0)
        assert times_a(a, b) == (value(a, b), 0.0)
