"""Tuples of values that depend on wrt: each component is a variable of its own.

Every source below starts with the function that is differentiated (the conftest helpers take
the first ``def``), followed by the helpers it calls. Each is checked in both modes against
central finite differences.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import (
    check_array_gradient,
    check_gradient,
    check_rejects,
    derivative,
    generated,
    imported,
)

import ad_transpile as adt

PATTERNS = {
    # the lists pass makes it a loop with an 'if' before the tuple is split: unrolled
    "a filtered generator over a tuple": """
        def f(a, b):
            t = (a, b)
            return sum(v * a for v in t if v > 0.0)
        """,
    "pack and unpack": """
        def f(a, b):
            t = (a, b)
            x, y = t
            return x * y + t[0] * t[-1]
        """,
    "unpack a literal": """
        def f(a, b):
            x, y = a * b, a - b
            return x * math.sin(y)
        """,
    "nested": """
        def f(a, b):
            t = ((a, b), a * b)
            (p, q), r = t
            return p * q * r + t[0][1] * t[1] + t[0][0]
        """,
    "starred unpacking": """
        def f(a, b):
            t = (a, b, a * b)
            first, *rest = t
            return first * rest[0] + rest[-1] * len(rest)
        """,
    "slice": """
        def f(a, b):
            t = (a, b, a * b, a + b)
            head = t[:2]
            x, y = t[2:]
            return head[0] * head[1] + x * y
        """,
    "starred in a literal": """
        def f(a, b):
            t = (a, b)
            u = (*t, a * b)
            return u[0] * u[1] * u[2]
        """,
    "concatenated": """
        def f(a, b):
            t = (a, b)
            u = t + (a * b,) + t[1:]
            return u[0] * u[2] + u[-1] * len(u)
        """,
    "chosen by a condition": """
        def f(a, b):
            t = (a, b * 2.0) if a > b else (b, a)
            x, y = t
            return x * math.sin(y)
        """,
    "copied and reassigned": """
        def f(a, b):
            t = (a, b)
            u = t
            t = (t[1], t[0] * 2.0)
            return u[0] * t[0] + u[1] * t[1]
        """,
    "state in a loop": """
        def f(a, n):
            s = (a, 1.0)
            for i in range(n):
                s = (s[0] * s[1], s[0] + 1.0)
            return s[0] + s[1]
        """,
    "simultaneous assignment": """
        def f(x, v):
            dt = 0.1
            for i in range(5):
                x, v = x + dt * v, v - dt * x
            return x * v
        """,
    "state tuple in a while loop": """
        def f(a, b):
            s = (a, b)
            k = 0
            while k < 4:
                x, v = s
                s = (x + 0.1 * v, v - 0.1 * math.sin(x))
                k = k + 1
            return s[0] * s[1]
        """,
    "state tuple in a branch": """
        def f(a, b):
            s = (a, b)
            if a > 0.0:
                s = (s[1], s[0] * a)
            return s[0] * s[1]
        """,
    "helper in a loop": """
        def f(x, v):
            for i in range(3):
                x, v = step(x, v, 0.1)
            return x * v

        def step(x, v, dt):
            return x + dt * v, v - dt * math.sin(x)
        """,
    "helper keeps a state tuple": """
        def f(a, b):
            s = (a, b)
            for i in range(3):
                s = step(*s)
            return s[0] * s[1]

        def step(x, v):
            s = (x + 0.1 * v, v - 0.1 * x)
            return s
        """,
    "state tuple passed to a helper": """
        def f(a, b):
            s = (a, b)
            for i in range(3):
                s = step(s, 0.1)
            return s[0] * s[1]

        def step(s, dt):
            x, v = s
            return x + dt * v, v - dt * math.sin(x)
        """,
    "tuple literals passed to a helper": """
        def f(a, b):
            return norm((a, b)) + norm((b, a * b)) * weighted(((a, 2.0), b), 0.5)

        def norm(p):
            x, y = p
            return x * x + y * y

        def weighted(pair, w):
            (x, k), y = pair
            return w * x * k + y * math.cos(x)
        """,
    "helper indexed": """
        def f(a):
            return pair(a)[1] * a + pair(a * 2.0)[0]

        def pair(a):
            return a * a, math.sin(a)
        """,
    "helper kept whole": """
        def f(a):
            r = pair(a)
            return r[0] * r[1]

        def pair(a):
            return a * a, math.sin(a)
        """,
    "helper result in a loop": """
        def f(a):
            total = 0.0
            for i in range(3):
                r = pair(a + i)
                total = total + r[0] * r[1]
            return total

        def pair(a):
            return a * a, math.sin(a)
        """,
    "loop over a literal": """
        def f(a, b):
            total = 0.0
            for v in (a, b, a * b):
                total = total + v * v
            return total
        """,
    "loop over a tuple the body changes": """
        def f(a, b):
            for v in (a, a * b):
                a = a * v
            return a
        """,
    "index a tuple with the index of a loop": """
        def f(a, b):
            t = (a, b, a * b)
            total = 0.0
            for i in range(len(t)):
                total = total + t[i] * t[len(t) - 1 - i]
            for i in range(1, 3):
                total = total + t[i - 1] * math.sin(t[i])
            return total
        """,
    "enumerate a tuple": """
        def f(a, b):
            total = 0.0
            t = (a, b, a * b)
            for i, v in enumerate(t):
                total = total + i * v
            return total
        """,
    "zip tuples": """
        def f(a, b):
            total = 0.0
            for u, v in zip((a, b), (b, math.cos(a))):
                total = total + u * v
            return total
        """,
    "a loop over a tuple inside a loop": """
        def f(a, b):
            s = (a, b)
            for i in range(3):
                for v in s:
                    s = (s[1], s[0] * math.sin(v) + v)
            return s[0] + s[1]
        """,
    "a component updated": """
        def f(a, b):
            t = (a, b)
            x = t[0]
            x += 1.0
            return x * t[1]
        """,
    "sum over a generator of a tuple": """
        def f(a, b):
            t = (a, b, a * b)
            return sum(v * v for v in t) + max([v * 2.0 for v in t])
        """,
    "len and sum": """
        def f(a, b):
            t = (a, b, a * b)
            return sum(t) / len(t)
        """,
    "max and min": """
        def f(a, b):
            t = (a, b * 2.0, a * b)
            return max(t) + min((a, b)) * 3.0
        """,
}
POINTS = [(0.7, 1.3), (-0.4, 0.9), (1.2, -0.6)]


def full(src: str) -> str:
    return "import math\n" + textwrap.dedent(src)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_in_both_modes(pattern):
    src = full(PATTERNS[pattern])
    params = src.split("def f(", 1)[1].split(")", 1)[0].split(", ")
    floats = [p for p in params if p != "n"]
    for point in POINTS:
        args = (*point[:len(floats)], *[3] * (len(params) - len(floats)))
        check_gradient(src, args, wrt=tuple(range(len(floats))))


@pytest.mark.parametrize("pattern", ["pack and unpack", "state in a loop", "helper kept whole"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_no_tuple_adjoints_and_no_numpy(pattern, mode):
    """The derivative is plain scalar code: no subscript, no NumPy, no helper."""
    text = generated(full(PATTERNS[pattern]), 0, mode)
    code = [line for line in text.split("\ndef f", 1)[1].splitlines()
            if not line.strip().startswith("#")]
    assert not any("[" in line.replace("[]", "") for line in code), text
    assert "np." not in text and "_unbroadcast" not in text, text


def test_state_in_a_loop_reads_as_scalar_code():
    text = generated(full(PATTERNS["state in a loop"]), 0, "reverse")
    assert "s_0 = a" in text and "s_1 = 1.0" in text, text
    assert "d_s_0" in text and "d_s_1" in text, text


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_through_the_api(tmp_path, mode):
    sources = [full(PATTERNS[p]).replace("def f(", f"def f{i}(") for i, p in enumerate(
        ["state in a loop", "helper kept whole", "state tuple passed to a helper"])]
    module = imported("\n".join(sources), tmp_path, f"tuple_module_{mode}")
    h = 1e-6
    for f, args in ((module.f0, (0.8, 4)), (module.f1, (0.8,)), (module.f2, (0.8, -0.3))):
        got = adt.grad(f, mode=mode)(*args)
        rest = args[1:]
        expected = (f(args[0] + h, *rest) - f(args[0] - h, *rest)) / (2 * h)
        assert got == pytest.approx(expected, rel=1e-6), f.__name__


ARRAYS = {
    "np.array of a tuple": """
        def f(a, b):
            t = (a, b)
            v = np.array(t)
            return np.sum(v * v) + np.sum(np.array((a, a * b)))
        """,
    "np.stack of a tuple": """
        def f(x, y):
            pair = (x, y * 2.0)
            return np.sum(np.stack(pair) ** 2) + np.sum(np.stack((x, y)) * 3.0)
        """,
}


@pytest.mark.parametrize("pattern", ARRAYS)
def test_numpy_calls_take_tuples(pattern):
    src = "import numpy as np\n" + textwrap.dedent(ARRAYS[pattern])
    if "np.stack" in src:
        rng = np.random.default_rng(3)
        check_array_gradient(src, (rng.normal(size=3), rng.normal(size=3)), wrt=(0, 1))
    else:
        check_gradient(src, (0.7, -1.1), wrt=(0, 1))


def test_returning_a_tuple_keeps_what_returning_two_values_does():
    """A tuple variable returned is ``return a, b``: refused for a gradient, as before; a
    Jacobian-vector product gives a tangent per result, a vector-Jacobian product takes a
    cotangent per result."""
    src = full("""
        def f(a, b):
            t = (a * b, a + b)
            return t
        """)
    check_rejects(src, "several values")
    two = full("""
        def f(a, b):
            return a * b, a + b
        """)
    check_rejects(two, "several values")
    for returned in (src, two):
        value, tangent = derivative(returned, 0, "forward", kind="jvp")(0.5, 2.0, 1.0)
        assert value == (1.0, 2.5) and tangent == (2.0, 1.0)
        value, cotangent = derivative(returned, 0, "reverse", kind="vjp")(0.5, 2.0, 1.0, 3.0)
        assert value == (1.0, 2.5) and cotangent == 2.0 + 3.0


REFUSED = {
    "a variable index": ("""
        def f(a, b, k):
            t = (a, b)
            return t[k]
        """, "indexing a tuple with a variable"),
    "a loop index whose bounds are not in the source": ("""
        def f(a, b, n):
            t = (a, b)
            total = 0.0
            for i in range(n):
                total = total + t[i]
            return total
        """, "its bounds must be numbers in the source"),
    "the loop index reassigned in an unrolled loop": ("""
        def f(a, b):
            t = (a, b)
            total = 0.0
            for i in range(2):
                total = total + t[i]
                for i in range(3):
                    total = total * 0.5
            return total
        """, "assigning to the loop variable 'i' inside the loop"),
    "unpacking an argument": ("""
        def f(s, b):
            x, v = s
            return x * v * b
        """, "unpacking the argument 's'"),
    "an index out of range": ("""
        def f(a, b):
            t = (a, b)
            return t[2]
        """, "index 2 of a tuple of 2"),
    "different lengths": ("""
        def f(a, b):
            t = (a, b)
            t = (a, b, a)
            return t[0]
        """, "tuples of different structure"),
    "a tuple and a number": ("""
        def f(a, b):
            t = a
            t = (a, b)
            return t[0]
        """, "holding a tuple and another value"),
    "a parameter": ("""
        def f(a, b):
            a = (a, b)
            return a[0]
        """, "holding a tuple and another value"),
    "unpacking too few names": ("""
        def f(a, b):
            t = (a, b, a)
            x, y = t
            return x
        """, "unpacking a tuple of 3 values into 2 names"),
    "a length not in the source": ("""
        def f(a, b):
            t = tuple([a, b])
            return t[0]
        """, "tuple"),
    "return in a loop over a tuple": ("""
        def f(a, b):
            for v in (a, b):
                if v > 0.0:
                    return v * a
            return b
        """, "'break', 'continue' or 'return' in a loop over a tuple"),
    "break in a loop over a tuple": ("""
        def f(a, b):
            total = 0.0
            for v in (a, b):
                if v > 1.0:
                    break
                total = total + v
            return total
        """, "'break', 'continue' or 'return' in a loop over a tuple"),
    "a tuple passed by keyword": ("""
        def f(a, b):
            return norm(p=(a, b))

        def norm(p):
            x, y = p
            return x * x + y * y
        """, "a tuple passed to 'norm' here"),
    "a tuple passed for a parameter with a default": ("""
        def f(a, b):
            return norm((a, b))

        def norm(p=(1.0, 2.0)):
            x, y = p
            return x * x + y * y
        """, "a parameter with a default"),
    "augmenting a tuple": ("""
        def f(a, b):
            t = (a,)
            t += (b,)
            return t[0]
        """, "on a tuple"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_refused(case):
    src, match = REFUSED[case]
    check_rejects(full(src), match)

