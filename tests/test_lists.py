"""Python lists as values with derivatives, in both modes, against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    check_gradient,
    check_rejects,
    derivative,
    forward_gradient,
    generated,
    imported,
    numeric_gradient,
    primal,
)

import ad_transpile as adt

M = "import math\nimport numpy as np\n\n"

# (name, source, arguments): the gradient along the first argument, both modes
CASES = [
    ("literal", "def f(a, b):\n    v = [a, b, a * b]\n    return v[0] * v[2] + v[1]\n",
     (0.7, -1.3)),
    ("nested-literal", "def f(a, b):\n    m = [[a, b], [a * b, 2.0]]\n"
     "    return np.sum(np.array(m) ** 2)\n", (0.7, -1.3)),
    ("negative-index", "def f(a, b):\n    v = [a, b, math.sin(a)]\n"
     "    return v[-1] * v[-3] - v[-2]\n", (0.4, 2.0)),
    ("append-in-loop", "def f(a):\n    h = []\n    for i in range(3):\n"
     "        h.append(a * i)\n    return sum(h) / len(h)\n", (0.8,)),
    ("append-history", "def f(a, b):\n    x = a\n    history = [x]\n    for i in range(4):\n"
     "        x = x * b + math.sin(x)\n        history.append(x)\n"
     "    return sum(history) / len(history)\n", (0.3, 0.9)),
    ("pop", "def f(a, b):\n    v = [a, b, a * b]\n    last = v.pop()\n"
     "    return last * v[-1] + len(v) * v[0]\n", (0.6, 1.7)),
    ("pop-index", "def f(a, b):\n    v = [a, b, a * b, b * b]\n    first = v.pop(0)\n"
     "    middle = v.pop(1)\n    return first * middle + v[0] * v[1]\n", (0.6, 1.7)),
    ("pop-in-loop", "def f(a):\n    v = [a, a * a, math.exp(a)]\n    s = 0.0\n"
     "    while len(v) > 0:\n        x = v.pop()\n        s = s * a + x\n    return s\n",
     (0.5,)),
    ("insert", "def f(a, b):\n    v = [a, b]\n    v.insert(1, a * b)\n    v.insert(0, b)\n"
     "    return v[0] * v[1] + v[2] * v[3]\n", (0.6, 1.7)),
    ("insert-anywhere", "def f(a, b):\n    v = [a, b]\n    v.insert(-1, a * b)\n"
     "    v.insert(10, b * b)\n    for k in range(-5, 1):\n        v.insert(k, a * k)\n"
     "    last = v.pop(-2)\n    return sum(x * (j + 1) for j, x in enumerate(v)) * last\n",
     (0.6, 1.7)),
    ("extend", "def f(a, b):\n    v = [a]\n    w = [b, a * b]\n    v.extend(w)\n"
     "    v.extend([b * b])\n    v.extend(x * a for x in w)\n"
     "    return sum(v) * v[1]\n", (0.6, 1.7)),
    ("slice", "def f(a, b):\n    v = [a, b, a * b, b * b, a - b]\n    w = v[1:4]\n"
     "    u = v[::2]\n    return sum(w) * w[0] + sum(u) * u[-1]\n", (0.6, 1.7)),
    ("write", "def f(a, b):\n    v = [a, b, 1.0]\n    v[0] = v[1] * a\n    v[2] = math.sin(v[0])\n"
     "    return v[0] + v[1] * v[2]\n", (0.6, 1.7)),
    ("augmented-write", "def f(a, b):\n    v = [0.0, 0.0, 0.0]\n    for i in range(3):\n"
     "        v[i] += a * i\n        v[(i + 1) % 3] += b * v[i]\n"
     "    return v[0] * v[1] + v[2]\n", (0.6, 1.7)),
    ("iterate", "def f(a, b):\n    v = [a, b, a * b]\n    s = 0.0\n    for x in v:\n"
     "        s = s * x + x\n    return s\n", (0.6, 1.7)),
    ("iterate-literal", "def f(a, b):\n    s = 0.0\n    for x in [a, b, a * b]:\n"
     "        s = s + x * x\n    return s\n", (0.6, 1.7)),
    ("len-sum", "def f(a, b):\n    v = [a, b, a * b]\n    return sum(v) / len(v)\n",
     (0.6, 1.7)),
    ("max-min", "def f(a, b):\n    v = [a, 2.0 * b, a * b]\n    return max(v) * min(v)\n",
     (0.6, 1.7)),
    ("max-of-generator", "def f(x, cs):\n    return max(x * c - c * c for c in cs)\n",
     (0.8, [0.2, 0.5, 0.9])),
    ("min-of-comprehension", "def f(x, cs):\n    return min([math.cos(x * c) for c in cs])\n",
     (0.8, [0.2, 0.5, 0.9])),
    ("sorted", "def f(a, b):\n    v = sorted([a, b, a * b, -b])\n"
     "    return v[0] + 2.0 * v[1] + 3.0 * v[2] + 4.0 * v[3]\n", (0.6, 1.7)),
    ("sorted-reverse", "def f(a, b):\n    v = sorted([a, b, a * b], reverse=True)\n"
     "    return v[0] * v[1] - v[2]\n", (0.6, 1.7)),
    ("zip", "def f(a, b):\n    u = [a, b, a * b]\n    w = [b, a, 1.0]\n    s = 0.0\n"
     "    for x, y in zip(u, w):\n        s = s + x * y\n    return s\n", (0.6, 1.7)),
    # a range beside the list: its items are counts, the list's carry derivatives
    ("zip-with-range", "def f(a, b):\n    v = []\n    for i in range(3):\n"
     "        v.append(a * i + b)\n    s = 0.0\n    for j, x in zip(range(3), v):\n"
     "        s = s + x * x * j\n    return s\n", (0.6, 1.7)),
    ("zip-reversed", "def f(a, b):\n    u = [a, b, a * b]\n    w = [b, a * a, 1.0]\n"
     "    s = 0.0\n    for x, y in zip(reversed(u), w):\n        s = s * a + x * y\n"
     "    return s\n", (0.6, 1.7)),
    ("zip-reversed-range", "def f(a, b):\n    u = [a, b, a * b, b * b]\n    s = 0.0\n"
     "    for k, x in zip(reversed(range(2)), reversed(u)):\n        s = s + k * x + x * x\n"
     "    return s\n", (0.6, 1.7)),
    ("enumerate", "def f(a, b):\n    v = [a, b, a * b]\n    s = 0.0\n"
     "    for i, x in enumerate(v):\n        s = s + i * x * x\n    return s\n", (0.6, 1.7)),
    ("reversed", "def f(a, b):\n    v = [a, b, a * b]\n    s = 0.0\n"
     "    for x in reversed(v):\n        s = s * a + x\n    return s\n", (0.6, 1.7)),
    ("comprehension-assigned", "def f(x, cs):\n    v = [x * c for c in cs if c > 0.3]\n"
     "    return v[0] * v[-1] + len(v)\n", (0.8, [0.2, 0.5, 0.9])),
    ("comprehension-over-list", "def f(a, b):\n    v = [a, b, a * b]\n"
     "    w = [x * x for x in v if True]\n    return sum(w)\n", (0.6, 1.7)),
    ("nested-comprehension", "def f(a, b):\n    v = [a, b]\n"
     "    m = [[x * y for y in v] for x in v]\n    return np.sum(np.array(m))\n", (0.6, 1.7)),
    ("np-array-of-comprehension", "def f(x, cs):\n"
     "    return np.sum(np.array([x * c for c in cs]) ** 2)\n", (0.8, [0.2, 0.5, 0.9])),
    ("np-stack-of-arrays", "def f(x, w):\n    rows = [w * x, w + x]\n"
     "    return np.sum(np.stack(rows) ** 2)\n", (0.8, np.array([0.3, -0.4]))),
    ("sum-of-generator-over-list", "def f(a, b):\n    v = [a, b, a * b]\n"
     "    return sum(x * x for x in v)\n", (0.6, 1.7)),
    ("concatenate", "def f(a, b):\n    u = [a, b]\n    w = [a * b]\n    v = u + w + [b]\n"
     "    return v[0] * v[2] + v[3] * v[1]\n", (0.6, 1.7)),
    ("copies", "def f(a, b):\n    u = [a, b]\n    v = list(u)\n    w = u[:]\n    z = u.copy()\n"
     "    v.append(a * b)\n    return v[2] * w[0] + z[1]\n", (0.6, 1.7)),
    ("made-in-loop", "def f(a, b):\n    s = 0.0\n    for i in range(3):\n"
     "        h = [a * i, b]\n        h.append(a * b)\n        s = s + sum(h) * h[0]\n"
     "    return s\n", (0.6, 1.7)),
    ("rows-appended", "def f(a, b):\n    rows = []\n    for i in range(3):\n"
     "        rows.append([a * i, b])\n    t = rows[1]\n"
     "    return t[0] * rows[2][1] + sum(rows[0])\n", (0.6, 1.7)),
    ("nested-item", "def f(a, b):\n    m = [[a, b], [a * b, 2.0]]\n    r = m[0]\n"
     "    return r[1] * m[1][0] + m[0][0]\n", (0.6, 1.7)),
    ("generator-assigned", "def f(a, b):\n    g = (x * x for x in [a, b, a * b])\n"
     "    return sum(g)\n", (0.6, 1.7)),
    ("loop-over-generator", "def f(a, b):\n    s = a\n"
     "    for v in (0.5 * k * b for k in range(3)):\n        s = s * v + a\n    return s\n",
     (0.6, 1.7)),
    ("max-in-loop", "def f(x, cs):\n    s = 0.0\n    for k in range(3):\n"
     "        s = s + max(x * c * k for c in cs)\n    return s\n", (0.8, [0.2, -0.5, 0.9])),
]


@pytest.mark.parametrize("name,src,args", CASES, ids=[c[0] for c in CASES])
def test_list_pattern(name, src, args):
    check_gradient(M + src, args)


@pytest.mark.parametrize("name,src,args", CASES[:4], ids=[c[0] for c in CASES[:4]])
def test_second_argument(name, src, args):
    if len(args) > 1 and not isinstance(args[1], list):
        check_gradient(M + src, args, wrt=(1,))


def test_hist_reads_as_a_short_loop():
    src = "def hist(a):\n    h = []\n    for i in range(3):\n        h.append(a * i)\n" \
          "    return sum(h) / len(h)\n"
    for mode in ("reverse", "forward"):
        text = generated(src, mode=mode)
        code = [line for line in text.split('"""')[-1].splitlines()
                if line.strip() and not line.strip().startswith("#")]
        assert len(code) <= 14, text
        assert "numpy" not in text and "_unbroadcast" not in text, text


LIST_WRT = [
    ("sum-of-squares", "def f(xs: list[float]):\n    return sum([x * x for x in xs])\n"),
    ("iterate", "def f(xs: list[float]):\n    s = 0.0\n    for x in xs:\n"
     "        s = s * 0.5 + math.sin(x)\n    return s\n"),
    ("copy-then-pop", "def f(xs: list[float]):\n    ys = list(xs)\n    last = ys.pop()\n"
     "    return last * sum(ys)\n"),
    ("max", "def f(xs: list[float]):\n    return max(xs) - min(xs) * xs[0]\n"),
]


@pytest.mark.parametrize("name,src", LIST_WRT, ids=[c[0] for c in LIST_WRT])
def test_list_argument_gradient(name, src):
    """A list argument in wrt: reverse mode returns a list; forward mode takes a sweep per
    item (as for an array)."""
    src = M + src
    xs = [0.3, -1.2, 0.8, 1.9]
    expected = numeric_gradient(lambda v: primal(src)(list(v)), (xs,), 0)
    got = derivative(src, 0, "reverse")(list(xs))
    assert isinstance(got, list)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(forward_gradient(src, (list(xs),), (0,))[0], expected,
                               rtol=1e-5, atol=1e-6)


def test_list_argument_through_the_api(tmp_path):
    module = imported(M + "def f(xs: list[float], a):\n    ys = [a * x for x in xs]\n"
                      "    ys.append(a)\n    return sum(ys) * max(ys)\n", tmp_path)
    xs = [0.3, -1.2, 0.8]
    expected = numeric_gradient(lambda v: module.f(list(v), 0.7), (xs,), 0)
    for mode in ("reverse", "forward"):
        got = adt.grad(module.f, mode=mode)(xs, 0.7)
        assert isinstance(got, list) and all(type(g) is float for g in got), got
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        a_grad = adt.grad(module.f, wrt=1, mode=mode)(xs, 0.7)
        np.testing.assert_allclose(a_grad, numeric_gradient(module.f, (xs, 0.7), 1),
                                   rtol=1e-5, atol=1e-6)
    assert xs == [0.3, -1.2, 0.8]  # the caller's list is untouched


def test_ties_give_the_first_largest_item_the_derivative():
    """max(v) is v[i] for the first i with the largest value, as Python returns it."""
    src = M + "def f(a, b):\n    v = [a, b, a]\n    return max(v)\n"
    for mode in ("reverse", "forward"):
        assert derivative(src, 0, mode)(1.0, 0.5) == 1.0
        assert derivative(src, 1, mode)(1.0, 0.5) == 0.0


REFUSED = [
    ("append-to-argument", "def f(a, xs: list):\n    xs.append(a)\n    return sum(xs)\n",
     "changing the argument 'xs' in place"),
    ("append-to-unannotated-argument", "def f(a, xs):\n    xs.append(a)\n"
     "    return sum(xs)\n", "a call whose result is unused"),
    ("write-into-argument", "def f(a, xs: list):\n    xs[0] = a\n    return sum(xs)\n",
     "changing the argument 'xs' in place"),
    ("alias", "def f(a):\n    v = [a]\n    w = v\n    w.append(a)\n    return sum(v)\n",
     "a second name for the list 'v'"),
    ("change-while-looping", "def f(a):\n    v = [a, a]\n    for x in v:\n"
     "        v.append(x)\n        if len(v) > 5:\n            break\n    return sum(v)\n",
     "changing the list 'v' while looping over it"),
    ("unsupported-method", "def f(a, b):\n    v = [a, b]\n    v.sort()\n    return v[0]\n",
     "the list method 'sort'"),
    ("change-an-item-list", "def f(a):\n    m = [[a], [a]]\n    r = m[0]\n"
     "    r.append(a)\n    return sum(r) + sum(m[0])\n",
     "changing a list that is also an item of another list"),
    # zipped items that are tuples: refused, never read as if they carried no derivative
    ("zip-of-tuples", "def f(a):\n    v = []\n    for i in range(3):\n"
     "        v.append((a * i, a))\n    s = 0.0\n    for j, (x, y) in zip(range(3), v):\n"
     "        s = s + x * y * j\n    return s\n", "looping over a value that depends on wrt"),
    ("made-in-loop-read-after", "def f(a):\n    for i in range(3):\n        v = [a * i]\n"
     "    return v[0]\n", "a list made in a loop or a branch and read after it"),
]


@pytest.mark.parametrize("name,src,match", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused(name, src, match):
    check_rejects(M + src, match)


@pytest.mark.parametrize("copy", ["list(xs)", "xs[:]", "xs.copy()"])
def test_copied_argument_may_change(copy):
    check_gradient(M + f"def f(a, xs: list):\n    xs = {copy}\n    xs.append(a * a)\n"
                   "    xs[0] = xs[0] * a\n    return sum(xs) * a\n", (0.7, [1.0, 2.0]))


def test_second_derivative_of_list_code(tmp_path):
    """Forward over reverse reads the adjoint lists of the first derivative as lists too."""
    module = imported(M + "def f(a, b):\n    h = [a * a, a * b]\n    for i in range(3):\n"
                      "        h.append(math.sin(a * i))\n    h[0] = h[0] * b\n"
                      "    return sum(h) * max(h)\n", tmp_path)
    first = adt.grad(module.f)
    expected = numeric_gradient(first, (0.7, 1.3), 0)
    np.testing.assert_allclose(adt.hessian(module.f)(0.7, 1.3), expected, rtol=1e-5)


def test_repeating_a_list_of_values_with_derivatives_is_refused_in_reverse_mode():
    check_rejects(M + "def f(a):\n    v = [a] * 3\n    return sum(v)\n",
                  "repeating a list that depends on wrt")
