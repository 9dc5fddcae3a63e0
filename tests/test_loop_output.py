"""Loops in generated code as a careful person writes them: invariants computed once, a small
tape, no tape at all for independent iterations, and names that say what they hold."""

from __future__ import annotations

import math
import re

import pytest
from conftest import MODES, ROOT, check_gradient, derivative, generated, numeric_gradient

import ad_transpile as adt


def body_of(text: str, function: str) -> str:
    """The generated text of one function of a module."""
    start = text.index(f"def {function}(")
    end = text.find("\ndef ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def loops(text: str) -> int:
    return sum(line.lstrip().startswith(("for ", "while ")) for line in text.splitlines())


def loop_of(text: str, function: str) -> str:
    """The text of the first loop in ``function`` (its header and body)."""
    body = body_of(text, function)
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(("for ", "while ")))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) <= indent),
               len(lines))
    return "\n".join(lines[start:end])


# 1. invariants

DRAG = """
DT = 0.01
DRAG = 0.02

def fall(v, k):
    t = 0.0
    while t < 1.0:
        v = v - DT * DRAG * k * v * v
        t = t + DT
    return v
"""

INVARIANTS = [  # (source, point, wrt, the invariant that leaves the loop)
    (DRAG, (3.0, 1.5), (0, 1), "DT_DRAG = DT * DRAG"),
    ("def f(x, a, b):\n"
     "    for i in range(5):\n"
     "        x = x * (a * b) + math.sin(x)\n"
     "    return x\n", (0.3, 0.7, 1.1), (0, 1, 2), "a_b = a * b"),
    ("def f(x, a):\n"
     "    for i in range(3):\n"
     "        for j in range(4):\n"
     "            x = math.sin(x) * (-a) + j\n"
     "    return x\n", (0.3, 0.7), (0, 1), "neg_a = -a"),
]


@pytest.mark.parametrize("src, point, wrt, invariant", INVARIANTS)
@pytest.mark.parametrize("mode", MODES)
def test_an_invariant_is_computed_once_before_the_loop(src, point, wrt, invariant, mode):
    src = "import math\n" + src
    text = generated(src, wrt, mode)
    where = [line for line in text.splitlines() if line.strip().startswith(invariant)]
    assert where and all(line == "    " + invariant for line in where), text  # not in a loop
    check_gradient(src, point, wrt, modes=(mode,))


@pytest.mark.parametrize("mode", MODES)
def test_a_parameter_set_in_a_loop_that_may_run_no_trip_keeps_its_value(mode):
    # x = -0.25 reads nothing the loop changes, but hoisted it would overwrite x for n == 0
    src = ("def f(x, y, n):\n"
           "    v = 0.0\n"
           "    for i in range(n):\n"
           "        x = -0.25\n"
           "        v -= 1.0\n"
           "    return x * y + v\n")
    for n in (0, 2):
        check_gradient(src, (1.5, 0.7, n), (0, 1), modes=(mode,))


def test_what_may_raise_stays_in_the_loop():
    # no trip runs when n == 0: 1 / a would raise where the source does not
    src = ("def f(x, a, n):\n"
           "    for i in range(n):\n"
           "        x = x * (1.0 / a)\n"
           "    return x\n")
    for mode in MODES:
        assert "/ a" in loop_of(generated(src, 0, mode), "fpr")  # the division runs per trip
        assert derivative(src, 0, mode)(2.0, 0.0, 0) == 1.0


# 4. names

CALLS = """
def total(v, m):
    return energy(v, m) + energy(2.0 * v, m)

def energy(v, m):
    return 0.5 * m * v * v
"""


def test_a_forward_mode_callee_is_named_for_its_jacobian_vector_product():
    text = generated(CALLS, (0, 1), "forward")
    assert "def energy_jvp(" in text and "energy_pr" not in text, text
    check_gradient(CALLS, (0.7, 1.3), (0, 1), modes=("forward",))


# 3. independent iterations: one loop, no tape


def sine_loss(omega, xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        total += (math.sin(omega * x) - y) ** 2
    return total


def log_loss(omega, xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        total += (math.sin(omega * x) - y) ** 2
    return math.log(total)


def mean_cosine(omega, xs):
    total = 0.0
    n = 0
    for x in xs:
        total += math.cos(omega * x)
        n += 1
    return total / n


def scaled(x, w):
    return math.tanh(w * x)


def network_loss(w, xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        total += (scaled(x, w) - y) ** 2
    return 0.5 * total


SUMS = [sine_loss, log_loss, mean_cosine, network_loss]
XS, YS = [0.1, 0.5, -0.3, 1.2], [0.2, 0.6, -0.4, 0.9]


def arguments(f, make=list):
    return (1.3, make(XS), make(YS)) if f is not mean_cosine else (1.3, make(XS))


@pytest.mark.parametrize("f", SUMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("mode", MODES)
def test_a_sum_over_data_points_is_differentiated_with_no_tape(f, mode):
    expected = numeric_gradient(f, arguments(f), 0)
    gradient = adt.grad(f, mode=mode)
    assert gradient(*arguments(f)) == pytest.approx(expected, rel=1e-6)
    assert gradient(*arguments(f, iter)) == pytest.approx(expected, rel=1e-6)  # read once
    if mode == "reverse":
        text = adt.source(f, mode=mode)
        assert "_stack" not in text and "reversed(" not in text, text


@pytest.mark.parametrize("f", [sine_loss, network_loss], ids=lambda f: f.__name__)
def test_where_the_sum_s_adjoint_is_known_first_one_pass_suffices(f):
    # the result is linear in the sum: its adjoint is a number before the loop runs, so the
    # values and their adjoints are computed together and the items are walked once
    text = body_of(adt.source(f), f"{f.__name__}_pr")
    assert loops(text) == 1 and "list(" not in text, text
    assert "for x, y in zip(xs, ys):" in text, text


@pytest.mark.parametrize("f", [log_loss, mean_cosine], ids=lambda f: f.__name__)
def test_where_it_is_not_the_items_are_kept_once_and_walked_forwards_twice(f):
    # log(total) needs the whole sum before its adjoint is known
    text = body_of(adt.source(f), f"{f.__name__}_pr")
    assert loops(text) == 2 and text.count("list(") == 1, text
    assert "_stack" not in text and "reversed(" not in text, text


# a double sum: a loop of sums around a loop of sums

PAIRS = """
import math

def pair_energy(s, xs: list[float]):
    e = 0.0
    for xi in xs:
        for xj in xs:
            d = xi - xj
            e += math.exp(-s * d * d)
    return e

def scaled_pairs(s, xs: list[float]):
    e = 0.0
    for xi in xs:
        a = xi * s
        for xj in xs:
            e += math.exp(-a * (xi - xj) ** 2)
    return e * e

def grid(s, n: int):
    e = 0.0
    for i in range(n):
        for j in range(i):
            e += math.sin(s * i * j) / (1 + j)
    return math.log(2.0 + e)
"""
DOUBLE_SUMS = [("pair_energy", 1), ("scaled_pairs", 2), ("grid", 2)]  # (function, loop nests)


@pytest.mark.parametrize("function, nests", DOUBLE_SUMS)
@pytest.mark.parametrize("mode", MODES)
def test_a_double_sum_is_differentiated_with_no_tape(function, nests, mode):
    point = (0.8, 5) if function == "grid" else (0.8, [0.1, 0.5, -0.3, 0.9])
    check_gradient(PAIRS, point, modes=(mode,), name=function)
    if mode == "reverse":
        text = body_of(generated(PAIRS, 0, mode, name=function), f"{function}_pr")
        assert "_stack" not in text and "reversed(" not in text and "append" not in text, text
        assert loops(text) == 2 * nests, text  # where the sum's adjoint is known: one pass


def test_a_double_sum_over_a_list_passed_in_walks_its_items():
    text = body_of(generated(PAIRS, 0, name="pair_energy"), "pair_energy_pr")
    assert "for xi in xs:" in text and "for xj in xs:" in text and "len(xs)" not in text, text



def test_a_double_sum_adds_each_term_to_the_adjoint_in_one_statement():
    # d_s -= d * (d * math.exp(...)), as by hand: no temporary for the term, the sign folded in
    text = body_of(generated(PAIRS, 0, name="pair_energy"), "pair_energy_pr")
    inner = [line.strip() for line in text.split("for xj in xs:")[1].splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert inner[0] == "d = xi - xj" and inner[1].startswith("d_s -= ") and len(inner) == 3, text

def test_the_network_sample_saves_nothing():
    text = generated((ROOT / "samples" / "network.py").read_text(), (0, 1, 2, 3), name="loss")
    assert "_stack" not in text and "_items" not in text, text


def test_value_and_gradient_of_a_sum_read_once():
    value, gradient = adt.value_and_grad(sine_loss)(1.3, iter(XS), iter(YS))
    assert value == pytest.approx(sine_loss(1.3, XS, YS))
    assert gradient == pytest.approx(numeric_gradient(sine_loss, arguments(sine_loss), 0),
                                     rel=1e-6)


# 2. the tape: one append per trip, of what the adjoint reads and the loop overwrites

PROJECTILE = (ROOT / "samples" / "projectile.py").read_text()


def appends(text: str) -> list[str]:
    """The lines that tape values: on the shared stack, or on a loop's own list."""
    return [line.strip() for line in text.splitlines()
            if re.match(r"\s*_\w+\.append\(", line)]


def test_the_projectile_tapes_one_tuple_of_three_per_trip():
    text = generated(PROJECTILE, ("angle", "speed"), name="landing")
    assert appends(text) == ["_stack.append((vy, air, relative))"], text
    assert "DT_DRAG = DT * DRAG" in text and "DT_DRAG_relative" not in appends(text)[0]


@pytest.mark.parametrize("mode", MODES)
def test_the_projectile_s_gradient_matches_finite_differences(mode):
    check_gradient(PROJECTILE, (2.0, 0.7, 25.0), (1, 2), modes=(mode,), name="landing")


TAPES = [  # (source, point, wrt, appends per trip)
    # the old value of v is read after its update (v * v): two saves, not one
    ("def f(x, n):\n"
     "    v = x\n"
     "    for i in range(n):\n"
     "        a = v * v\n"
     "        v = math.sin(v)\n"
     "        v = v * a + x * v\n"
     "    return v\n", (0.4, 3), (0,), None),
    # a product of a taped value and an invariant is computed again, not taped
    ("def f(x, k, n):\n"
     "    for i in range(n):\n"
     "        s = math.sin(x)\n"
     "        ks = k * s\n"
     "        x = x - ks * x\n"
     "    return x\n", (0.4, 0.3, 4), (0, 1), 1),
    # values read before and after an update: one tuple saved before it
    ("def f(x, y, n):\n"
     "    for i in range(n):\n"
     "        c = math.cos(x)\n"
     "        r = c * y\n"
     "        y = y - r * x\n"
     "        x = x + c * c\n"
     "    return x * y\n", (0.4, 0.9, 3), (0, 1), 1),
]


@pytest.mark.parametrize("src, point, wrt, count", TAPES)
def test_small_tapes_give_the_same_gradients(src, point, wrt, count):
    src = "import math\n\n" + src
    text = generated(src, wrt if len(wrt) > 1 else wrt[0])
    if count is not None:
        assert len(appends(text)) == count, text
    check_gradient(src, point, wrt)


# a break: the trip count and a flag, never a value saved on every trip

BREAKS = [
    ("def f(x, cs):\n"
     "    total = 0.0\n"
     "    for c in cs:\n"
     "        total = total * x + c\n"
     "        if total > 5.0:\n"
     "            total = math.sqrt(total)\n"
     "            break\n"
     "    return total\n", [(1.3, [1.0, 2.0, 3.0, 4.0]), (0.5, [1.0, 2.0, 0.5])]),
    ("def f(x, n):\n"
     "    v = x\n"
     "    i = 0\n"
     "    while i < n:\n"
     "        v = v * x + math.sin(v)\n"
     "        if v > 4.0:\n"
     "            v = v * v\n"
     "            break\n"
     "        else:\n"
     "            v = v + 0.5 * x\n"
     "        i = i + 1\n"
     "    return v\n", [(1.2, 6), (0.1, 3)]),
    ("def f(x, n):\n"
     "    v = x\n"
     "    for i in range(n):\n"
     "        v = math.sin(v) + x\n"
     "        if v < 1.0:\n"
     "            v = v * 0.5\n"
     "        else:\n"
     "            v = v * v\n"
     "            break\n"
     "        if v < 0.2:\n"
     "            v = v * x\n"
     "            break\n"
     "    return v\n", [(0.3, 5), (0.05, 5), (1.5, 3)]),
]


@pytest.mark.parametrize("src, points", BREAKS)
def test_a_break_is_taped_as_a_flag_not_per_trip(src, points):
    src = "import math\n\n" + src
    text = generated(src)
    assert "append(True)" not in text and "append(False)" not in text, text
    assert "_broke = True" in text, text
    for point in points:
        check_gradient(src, point)


def test_values_computed_again_are_computed_in_the_primal_s_order():
    # b and a = b * k are both cheap: a must be computed again from the b computed again
    src = ("import math\n\n"
           "def f(x, k, n):\n"
           "    for i in range(n):\n"
           "        s = math.sin(x)\n"
           "        b = s * k\n"
           "        a = b * k\n"
           "        x = x - a * s * x\n"
           "    return x\n")
    check_gradient(src, (0.4, 0.3, 4), (0, 1))


# 3. a loop's own tape, walked backwards; no copy made for the order of statements

OWN_TAPES = [  # (source, point, wrt, the reversed loop's header)
    # one value a trip: the reversed loop's variable is the taped value
    ("def f(x, a, n):\n"
     "    for _ in range(n):\n"
     "        x = x * a + math.sin(x)\n"
     "    return x\n", (0.4, 0.9, 6), (0, 1), "for x in reversed(_xs):"),
    # two values a trip, taped at two points: two lists, zipped
    ("def f(h, k):\n"
     "    total = 0.0\n"
     "    while h > 1.0:\n"
     "        h = h * k\n"
     "        total += math.sqrt(h)\n"
     "    return total\n", (40.0, 0.8), (0, 1),
     "for sqrt_h, h in zip(reversed(_sqrt_hs), reversed(_hs)):"),
    # a second while loop: its trip counter has another name (_t1), and goes too
    ("def f(h, k):\n"
     "    total = 0.0\n"
     "    while h > 1.0:\n"
     "        h = h * k\n"
     "        total += math.sqrt(h)\n"
     "    g = total\n"
     "    while g > 0.5:\n"
     "        total += math.sin(g)\n"
     "        g = g * k\n"
     "    return total\n", (40.0, 0.8), (0, 1),
     "for g in reversed(_gs):"),
    # the loop's own variable is read too: it walks back beside the tape
    ("def f(x, cs):\n"
     "    for c in cs:\n"
     "        x = math.sin(x) * c\n"
     "    return x\n", (0.4, [0.5, 1.5, -2.0]), (0,),
     "for c, x in zip(reversed(_items), reversed(_xs)):"),
]


@pytest.mark.parametrize("src, point, wrt, header", OWN_TAPES)
def test_a_loop_taping_the_same_values_every_trip_walks_its_own_list_back(
        src, point, wrt, header):
    src = "import math\n\n" + src
    text = generated(src, wrt if len(wrt) > 1 else wrt[0])
    assert header in text, text
    assert ".pop()" not in text and "_trips" not in text and "_stack" not in text, text
    check_gradient(src, point, wrt)


OWN_TAPE_REFUSALS = [  # where the values might not pair up: the shared stack stays
    # a break may end a trip before its append
    ("def f(x, n):\n"
     "    for i in range(n):\n"
     "        x = math.sin(x) * x\n"
     "        if x < 0.1:\n"
     "            break\n"
     "    return x\n", [(0.9, 5), (0.05, 5)]),
    # an append in a branch is not made on every trip
    ("def f(x, n):\n"
     "    for i in range(n):\n"
     "        if x > 0.5:\n"
     "            x = math.sin(x) * x\n"
     "        else:\n"
     "            x = x * x + 0.3\n"
     "    return x\n", [(0.9, 5), (0.2, 4)]),
]


@pytest.mark.parametrize("src, points", OWN_TAPE_REFUSALS)
def test_where_a_trip_may_skip_an_append_the_shared_stack_stays(src, points):
    src = "import math\n\n" + src
    text = generated(src)
    assert "_stack" in text, text
    for point in points:
        check_gradient(src, point)


def test_a_nested_loop_keeps_the_shared_stack():
    src = ("import math\n\n"
           "def f(s, xs):\n"
           "    e = 0.0\n"
           "    for xi in xs:\n"
           "        for xj in xs:\n"
           "            e = e * s + math.exp(-s * (xi - xj))\n"
           "    return e\n")
    assert "_stack.pop()" in generated(src), generated(src)
    check_gradient(src, (0.3, [0.1, 0.7, -0.4]))


COPIES = [  # (source, point, wrt, mode, a line of the generated loop, a copy that is gone)
    # the tangent of h reads the old h: it goes first, and h is updated in place
    ("def f(h, k):\n"
     "    total = 0.0\n"
     "    while h > 1.0:\n"
     "        h = h * k\n"
     "        total += math.sqrt(h)\n"
     "    return total\n", (40.0, 0.8), 1, "forward", "d_h = k * d_h + h", "h_k"),
    # the adjoint of a reads the old adjoint of x: it goes first, and nothing is copied
    ("def f(x, a, n):\n"
     "    for _ in range(n):\n"
     "        x = x * a + math.sin(x)\n"
     "    return x\n", (0.4, 0.9, 6), (0, 1), "reverse", "d_a += x * d_x", "d_x_a"),
]


@pytest.mark.parametrize("src, point, wrt, mode, line, gone", COPIES)
def test_statements_go_in_the_order_that_needs_no_copy(src, point, wrt, mode, line, gone):
    src = "import math\n\n" + src
    text = generated(src, wrt, mode)
    assert line in [s.strip() for s in text.splitlines()], text
    assert gone not in text, text
    check_gradient(src, point, wrt if isinstance(wrt, tuple) else (wrt,), modes=(mode,))


def test_an_adjoint_times_a_sum_of_partials_is_one_product():
    src = ("import math\n\n"
           "def f(x, a, n):\n"
           "    for _ in range(n):\n"
           "        x = x * a + math.sin(x)\n"
           "    return x\n")
    text = generated(src, (0, 1))
    assert "d_x = (math.cos(x) + a) * d_x" in text, text
