"""Branches, loops, jumps and comprehensions: both modes agree with finite differences.

Each case is a function and the points to check it at, chosen so that different branches are
taken and loops run different numbers of times (none at all, once, several times). Sources are
indented by two spaces to keep a case to a line or two.
"""

from __future__ import annotations

import ast
import re

import pytest
from conftest import MODES, ROOT, check_gradient, check_rejects, derivative, generated

CS = [0.5, -1.2, 2.0, 0.3]
XS, YS = [0.1, 0.5, -0.3, 1.2], [0.2, 0.6, -0.4, 0.9]
M = "import math\n"

# (name, source, points, wrt)
CASES = [
    # if / elif / else, conditional expressions, and / or / not
    ("if-return", "def f(x):\n  if x > 0.0:\n    return x * x\n  return -3.0 * x\n",
     [(1.3,), (-0.7,)], (0,)),
    ("elif", M + "def f(x):\n  if x < -1.0:\n    y = x ** 3\n  elif x < 1.0:\n    y = math.sin(x)\n"
     "  else:\n    y = math.exp(x)\n  return y * x\n", [(-2.0,), (0.3,), (1.5,)], (0,)),
    ("if-overwrites", M + "def f(x):\n  y = x * x\n  if y > 2.0:\n    y = y * y\n  else:\n"
     "    y = math.sin(y)\n  return y\n", [(1.7,), (0.5,), (-1.6,)], (0,)),
    ("if-without-else", M + "def f(x):\n  y = x\n  if x > 0.5:\n    y = y * math.cos(x)\n"
     "  return y + x\n", [(0.9,), (0.1,)], (0,)),
    ("nested-if", "def f(x):\n  if x > 0.0:\n    if x > 1.0:\n      y = x ** 3\n    else:\n"
     "      y = x * x\n  else:\n    y = -x\n  return 2.0 * y\n", [(1.4,), (0.6,), (-0.8,)], (0,)),
    ("if-on-argument", "def f(x, flag):\n  if flag:\n    y = x * x\n  else:\n    y = -x\n"
     "  return y * 2.0\n", [(0.7, True), (0.7, False)], (0,)),
    ("if-overwrites-argument", "def f(x):\n  if x > 0.0:\n    x = x * x\n  return x * 3.0\n",
     [(0.6,), (-0.6,)], (0,)),
    ("ifexp", "def f(x):\n  return x * x if x > 1.0 else 2.0 * x\n", [(1.5,), (0.2,)], (0,)),
    ("ifexp-nested", "def f(x):\n  return x ** 3 if x > 1.0 else (x * x if x > 0.0 else -x)\n",
     [(1.4,), (0.5,), (-0.8,)], (0,)),
    ("ifexp-operand", M + "def f(x):\n  y = (math.sin(x) if x > 0.0 else math.cos(x)) * x\n"
     "  return y + x\n", [(0.8,), (-0.8,)], (0,)),
    ("and", M + "def f(x):\n  if x > 0.0 and x < 2.0:\n    return math.sin(x)\n  return x * 0.5\n",
     [(1.0,), (2.5,), (-1.0,)], (0,)),
    ("or", "def f(x):\n  y = x * x\n  if y > 4.0 or x < 0.0:\n    return y * x\n  return y + x\n",
     [(2.5,), (-0.5,), (1.0,)], (0,)),
    ("not", M + "def f(x):\n  if not x > 0.5:\n    return x * x\n  return math.exp(x)\n",
     [(0.2,), (0.9,)], (0,)),
    ("chained-comparison", "def f(x):\n  if -1.0 < x < 1.0:\n    return x ** 3\n  return 2.0 * x\n",
     [(0.3,), (1.5,), (-2.0,)], (0,)),
    ("and-or-ifexp", "def f(x, y):\n  return x * y if x > y and y > 0.0 or x < -1.0 else x - y\n",
     [(0.8, 0.5), (-1.5, 0.5), (-0.5, 0.5)], (0, 1)),
    # for over range, bounds computed at run time, any step
    ("range", "def f(x, n):\n  s = 1.0\n  for i in range(n):\n    s = s * x + i\n  return s\n",
     [(0.7, 0), (0.7, 1), (1.3, 4)], (0,)),
    ("range-start-stop-step", M + "def f(x, a, b, k):\n  s = x\n  for i in range(a, b, k):\n"
     "    s = s * math.cos(x * i) + x\n  return s\n",
     [(0.4, 1, 7, 2), (0.4, 2, 2, 1), (0.4, 6, -1, -2)], (0,)),
    ("range-computed-bound", "def f(x, n):\n  m = 2 * n + 1\n  s = 0.0\n  for i in range(1, m):\n"
     "    s += x ** i / i\n  return s\n", [(0.5, 0), (0.5, 2), (-0.8, 3)], (0,)),
    ("range-negative-step", M + "def f(x, n):\n  s = x\n  for i in range(n, -1, -2):\n"
     "    s = math.sin(s) * x + i\n  return s\n", [(0.6, 5), (0.6, 0), (0.6, -1)], (0,)),
    ("range-bound-changed-in-loop", "def f(x, n):\n  m = n\n  s = x\n  for i in range(m):\n"
     "    m = m - 1\n    s = s * x + m\n  return s\n", [(0.8, 4), (0.8, 0)], (0,)),
    ("range-bound-from-active", "def f(x):\n  s = 1.0\n  for i in range(int(3 * x)):\n"
     "    s = s * x\n  return s\n", [(1.5,), (0.2,)], (0,)),
    # variables overwritten inside loops, loop-carried dependencies
    ("square-repeatedly", "def f(x, n):\n  for _ in range(n):\n    x = x * x\n  return x\n",
     [(1.1, 3), (0.9, 0), (-0.95, 2)], (0,)),
    ("temporary-in-loop", M + "def f(x, cs):\n  s = 0.0\n  for c in cs:\n"
     "    t = math.sin(c * x)\n    s += t * t\n  return s\n", [(0.7, CS), (0.7, [])], (0,)),
    ("overwritten-twice-per-iteration", M + "def f(x, n):\n  y = x\n  for i in range(n):\n"
     "    y = math.tanh(y) * x + y\n    y = y / (1.0 + y * y)\n  return y\n",
     [(0.8, 3), (-1.5, 1)], (0,)),
    ("augmented-assignments", "def f(x, cs):\n  t = 1.0\n  for c in cs:\n    t *= x + c\n"
     "    t /= 1.0 + x * x\n    t -= c * x * t\n  return t\n", [(0.9, CS)], (0,)),
    ("read-then-overwritten", M + "def f(x, n):\n  s = x\n  for i in range(n):\n    t = s\n"
     "    s = math.sin(t) * x\n    t = t * s\n    s = s + t\n  return s\n", [(0.9, 3)], (0,)),
    ("value-before-loop-overwritten-in-loop", M + "def f(x, cs):\n  t = x * x\n  u = math.sin(t)\n"
     "  s = 0.0\n  for c in cs:\n    t = c * x\n    s += t * t\n  return u + s\n",
     [(0.7, CS), (0.7, [])], (0,)),
    ("two-carried-values", "def f(x, y, n):\n  a, b = x, y\n  for _ in range(n):\n"
     "    a, b = b, a * b + x\n  return a + b\n", [(0.5, 0.4, 3), (-0.6, 0.9, 1)], (0, 1)),
    ("two-loops-in-a-row", "def f(x, n):\n  s = x\n  for i in range(n):\n    s = s * x\n  t = s\n"
     "  for i in range(n):\n    t = t * s\n  return t\n", [(0.8, 3), (0.8, 0)], (0,)),
    # lists and tuples of floats, zip, enumerate, reversed
    ("list", "def f(x, cs):\n  s = 0.0\n  for c in cs:\n    s = s * x + c\n  return s\n",
     [(0.6, CS), (1.2, []), (-0.3, (2.0,)), (0.8, tuple(CS))], (0,)),
    ("zip", M + "def f(w, xs, ys):\n  t = 0.0\n  for x, y in zip(xs, ys):\n"
     "    t += (math.sin(w * x) - y) ** 2\n  return t\n", [(1.1, XS, YS), (0.2, [], [])], (0,)),
    ("enumerate", "def f(x, cs):\n  s = 0.0\n  for i, c in enumerate(cs):\n    s += c * x ** i\n"
     "  return s\n", [(0.6, CS), (-1.3, CS[:1])], (0,)),
    ("reversed-list", "def f(x, cs):\n  s = 0.0\n  for c in reversed(cs):\n    s = s * x + c\n"
     "  return s\n", [(0.6, CS), (0.6, [])], (0,)),
    ("reversed-range", "def f(x, n):\n  s = 1.0\n  for i in reversed(range(n)):\n"
     "    s = s * x + i\n  return s\n", [(0.7, 4), (0.7, 0)], (0,)),
    ("reversed-range-step", M + "def f(x, n):\n  s = x\n  for i in reversed(range(1, n, 2)):\n"
     "    s = math.cos(s * i) + x\n  return s\n", [(0.3, 8), (0.3, 1)], (0,)),
    ("reversed-range-negative-step", "def f(x, n):\n  s = x\n"
     "  for i in reversed(range(n, 0, -3)):\n    s = s * x - i\n  return s\n",
     [(0.9, 10), (0.9, 0)], (0,)),
    ("enumerate-zip", "def f(x, xs, ys):\n  s = 0.0\n  for i, (a, b) in enumerate(zip(xs, ys)):\n"
     "    s = s * x + a * i - b\n  return s\n", [(0.5, XS, YS), (0.5, [], [])], (0,)),
    ("enumerate-zip-break", M + "def f(x, xs, ys):\n  s = 0.0\n"
     "  for i, (a, b) in enumerate(zip(xs, ys)):\n    s = math.sin(s * x) + a * i - b\n"
     "    if s > 0.5:\n      break\n  return s\n",
     [(0.5, XS, YS), (0.5, XS, [-0.8, 0.6]), (0.5, XS[:3], YS[:3])], (0,)),
    ("enumerate-zip-pairs", M + "def f(x, xs, ys):\n  s = 0.0\n"
     "  for i, pair in enumerate(zip(xs, ys)):\n    s += math.sin(x * i) * sum(pair)\n"
     "  return s\n", [(0.5, XS, YS)], (0,)),
    ("nested-zips", "def f(x, xs, ys):\n  s = 0.0\n  for a, b in zip(xs, ys):\n"
     "    for c, d in zip(ys, xs):\n      s = s * x + a * d - b * c\n      if s > 2.0:\n"
     "        break\n  return s\n", [(0.6, CS, CS[::-1]), (0.3, XS, YS)], (0,)),
    # while with any condition
    ("while-counter", "def f(x, n):\n  i = 0\n  s = x\n  while i < n:\n    s = s * x\n    i += 1\n"
     "  return s\n", [(0.8, 0), (0.8, 3)], (0,)),
    ("while-active-condition", "def f(x):\n  y = x\n  while y < 10.0:\n    y = y * 1.5 + x\n"
     "  return y\n", [(1.0,), (0.3,), (12.0,)], (0,)),
    ("while-true-break", M + "def f(x):\n  s = x\n  k = 0\n  while True:\n    s = math.sin(s) + x\n"
     "    k += 1\n    if k >= 4:\n      break\n  return s\n", [(0.5,), (-2.0,)], (0,)),
    ("while-and", "def f(x, n):\n  i = 0\n  s = x\n  while i < n and s < 5.0:\n    s = s * s + x\n"
     "    i += 1\n  return s\n", [(1.2, 10), (0.3, 4), (0.3, 0)], (0,)),
    ("while-or", "def f(x):\n  y = x\n  while y < 5.0 and (y > -5.0 or x > 0.0):\n"
     "    y = y * 1.7 + x\n  return y\n", [(0.6,), (-0.6,)], (0,)),
    ("while-call-condition", M + "def f(x):\n  y = x\n  while math.exp(y) < 20.0:\n"
     "    y = y + x * x\n  return y\n", [(0.7,), (1.3,), (3.5,)], (0,)),
    ("while-ifexp-condition", "def f(x):\n  y = x\n  while (y if y > 0.0 else -y) < 5.0:\n"
     "    y = y * 1.7 + x\n  return y\n", [(0.6,), (-0.3,)], (0,)),
    # break, continue and return anywhere
    ("break", "def f(x, cs):\n  s = 0.0\n  for c in cs:\n    s = s + c * x\n    if s > 0.0:\n"
     "      break\n  return s * x\n",
     [(1.0, [0.5, 2.0, 3.0]), (1.0, [-0.5, -1.0, 3.0]), (1.0, [])], (0,)),
    ("break-in-reversed", "def f(x, cs):\n  s = 1.0\n  for c in reversed(cs):\n"
     "    s = s * x + c\n    if s > 1.0:\n      break\n  return s\n", [(0.9, CS), (0.2, CS)], (0,)),
    ("continue", M + "def f(x, cs):\n  s = 0.0\n  for c in cs:\n    if c < 0.0:\n      continue\n"
     "    s += c * math.sin(x)\n  return s\n", [(0.7, CS), (0.7, [-1.0])], (0,)),
    ("continue-on-active", "def f(x, cs):\n  s = 1.0\n  for c in cs:\n    t = c * x\n"
     "    if t < 0.0:\n      continue\n    s = s * t + x\n  return s\n", [(0.8, CS), (-0.8, CS)],
     (0,)),
    ("continue-first-iteration", "def f(x, n):\n  s = x\n  for i in range(n):\n    if i == 0:\n"
     "      continue\n    s = s * x\n  return s\n", [(0.8, 4), (0.8, 1)], (0,)),
    ("continue-and-break", M + "def f(x, cs):\n  s = x\n  for c in cs:\n    if c < 0.0:\n"
     "      continue\n    s = math.sin(s) * c\n    if s > 0.4:\n      break\n    s = s + x\n"
     "  return s\n", [(0.9, CS), (0.2, CS), (-0.9, [0.5, 0.5, 0.5])], (0,)),
    ("while-continue-and-break", "def f(x, n):\n  s = x\n  i = 0\n  while i < n:\n    i += 1\n"
     "    if i == 2:\n      continue\n    if i == 4:\n      break\n    s = s * x + i\n  return s\n",
     [(0.8, 6), (0.8, 2)], (0,)),
    ("return-in-loop", "def f(x, cs):\n  s = 0.0\n  for c in cs:\n    s = s * x + c\n"
     "    if s > 1.0:\n      return s\n  return -s\n",
     [(1.1, [0.5, 0.5, 2.0]), (0.2, [0.5, 0.5, 0.5]), (2.0, [1.5])], (0,)),
    ("return-loop-item", "def f(x, cs):\n  for c in cs:\n    if c * x > 1.0:\n"
     "      return c * x\n  return x\n", [(0.8, CS), (0.1, CS)], (0,)),
    ("returns-in-branches", "def f(x):\n  if x > 1.0:\n    return x * x\n  if x > 0.0:\n"
     "    return x ** 3\n  return -x\n", [(1.5,), (0.5,), (-0.5,)], (0,)),
    ("return-before-overwrite", "def f(x):\n  y = x * 2.0\n  if y > 1.0:\n    return y\n"
     "  y = y * y\n  return y\n", [(0.2,), (0.8,)], (0,)),
    ("return-in-while", "def f(x):\n  y = x\n  while y < 100.0:\n    y = y * y + x\n"
     "    if y > 50.0:\n      return y - x\n  return y\n", [(1.5,), (2.3,), (120.0,)], (0,)),
    ("return-in-while-true", "def f(x):\n  while True:\n    x = x * 1.5\n    if x > 3.0:\n"
     "      return x\n  return -x\n", [(0.8,), (4.0,)], (0,)),
    # nested loops, inner bounds depending on the outer index
    ("inner-bound-is-outer-index", "def f(x, n):\n  s = 0.0\n  for i in range(n):\n"
     "    for j in range(i):\n      s = s * x + j\n    s = s + x\n  return s\n",
     [(0.6, 4), (0.6, 1), (0.6, 0)], (0,)),
    ("inner-bound-computed-in-outer", "def f(x, n):\n  s = x\n  for i in range(n):\n    m = i * 2\n"
     "    for j in range(m):\n      s = s * 0.9 + x\n  return s\n", [(0.7, 3)], (0,)),
    ("nested-over-lists", M + "def f(x, cs):\n  for a in cs:\n    for b in cs:\n"
     "      x = math.sin(x * a) + b\n  return x\n", [(0.4, CS[:3]), (0.4, [])], (0,)),
    ("return-in-nested-loops", "def f(x, n):\n  s = x\n  for i in range(n):\n"
     "    for j in range(n):\n      s = s * 1.1 + x * j\n      if s > 8.0:\n"
     "        return s * i\n  return s\n",
     [(0.5, 4), (0.5, 2), (2.0, 3)], (0,)),
    ("return-in-nested-whiles", M + "def f(x, n):\n  s = x\n  i = 0\n  while i < n:\n    i += 1\n"
     "    j = 0\n    while j < i:\n      j += 1\n      s = math.sin(s) + x\n      if s > 1.5:\n"
     "        return s\n  return -s\n", [(0.9, 3), (0.3, 3)], (0,)),
    ("while-in-for", "def f(x, n):\n  s = x\n  for i in range(1, n):\n    j = 0\n    while j < i:\n"
     "      s = s * x + 0.1\n      j += 1\n  return s\n", [(0.9, 4), (0.9, 1)], (0,)),
    ("for-in-while", "def f(x, cs):\n  y = x\n  while y < 4.0:\n    for c in cs:\n"
     "      y = y + c * x * x\n  return y\n", [(1.1, [0.5, 0.25]), (5.0, [0.5])], (0,)),
    ("break-inner-only", "def f(x, n):\n  s = 0.0\n  for i in range(n):\n    for j in range(n):\n"
     "      if j > i:\n        break\n      s = s + x ** (i + j)\n  return s\n",
     [(0.7, 3), (0.7, 0)], (0,)),
    ("break-in-inner-while", "def f(x, n):\n  s = 1.0\n  for i in range(n):\n    k = 0\n"
     "    while k < 5:\n      s = s * x + 1.0\n      k += 1\n      if s > 2.0 + i:\n        break\n"
     "  return s\n", [(0.9, 3), (1.3, 2)], (0,)),
    ("break-in-nested-reversed", "def f(x, cs, n):\n  s = x\n  for i in range(n):\n"
     "    for c in reversed(cs):\n      if c < 0.0:\n        continue\n      s = s * x + c\n"
     "      if s > 4.0:\n        break\n  return s\n", [(0.9, CS, 3)], (0,)),
    ("three-deep", "def f(x, n):\n  s = x\n  for i in range(n):\n    for j in range(i, n):\n"
     "      for k in range(j):\n        s = s * 0.9 + x * k\n  return s\n", [(0.7, 4)], (0,)),
    # sum over generator expressions and list comprehensions
    ("sum-enumerate", "def f(x, cs):\n  return sum(c * x ** i for i, c in enumerate(cs))\n",
     [(0.6, CS), (0.6, [])], (0,)),
    ("sum-list-comprehension", M + "def f(x, cs):\n  return sum([math.sin(x * c) for c in cs])\n",
     [(0.6, CS)], (0,)),
    ("sum-filter", "def f(x, cs):\n  return sum(x * c for c in cs if c > 0.0) * x\n",
     [(0.6, CS), (0.6, [-1.0])], (0,)),
    ("sum-active-filter", M + "def f(x, cs):\n"
     "  return sum(math.exp(c * x) for c in cs if c * x < 1.0)\n",
     [(0.6, CS), (-0.9, CS)], (0,)),
    ("sum-two-filters", "def f(x, cs):\n  return sum(c * x for c in cs if c > 0.0 if c < 1.0)\n",
     [(0.9, CS)], (0,)),
    ("sum-two-fors", M + "def f(x, cs):\n"
     "  return sum(math.sin(a * x) * b for a in cs for b in cs)\n",
     [(0.6, CS)], (0,)),
    ("sum-inner-range-of-outer", "def f(x, n):\n"
     "  return sum(x ** j for i in range(n) for j in range(i))\n",
     [(0.6, 4), (0.6, 1)], (0,)),
    ("sum-two-fors-filtered", "def f(x, cs):\n"
     "  return sum(a * b * x for a in cs if a > 0.0 for b in cs if b * x < 0.5)\n",
     [(0.7, CS), (-0.7, CS)], (0,)),
    ("fsum-zip", M + "def f(w, xs, ys):\n"
     "  return math.fsum((math.sin(w * x) - y) ** 2 for x, y in zip(xs, ys))\n",
     [(1.1, XS, YS)], (0,)),
    ("comprehension-variable-shadows", "def f(x, cs):\n  c = x * 2.0\n"
     "  return c + sum(c * x for c in cs)\n", [(0.6, CS)], (0,)),
    ("sum-in-loop", M + "def f(x, n):\n  s = 0.0\n  for i in range(n):\n"
     "    s = s * x + sum(math.cos(c * s) for c in range(i))\n  return s\n",
     [(0.6, 4), (0.6, 0)], (0,)),
    ("sum-of-overwritten-value", "def f(x, cs):\n  y = x\n  s = 0.0\n  for c in cs:\n"
     "    y = y * c\n    s = s + sum(y * d for d in cs)\n  return s\n", [(0.5, CS)], (0,)),
    # several arguments, several constructs at once
    ("branch-in-loop", M + "def f(x, y, n):\n  s = x\n  for i in range(n):\n    if s > y:\n"
     "      s = s - y * math.sin(s)\n    else:\n      s = s * y + x\n  return s\n",
     [(0.8, 0.5, 4), (-0.3, 1.2, 3)], (0, 1)),
    ("continue-on-two-arguments", "def f(x, y, cs):\n  s = 0.0\n  for c in cs:\n"
     "    if c * x > y:\n      continue\n    s = s + c * x * y\n  return s\n",
     [(0.8, 0.5, CS), (0.3, -0.5, CS)], (0, 1)),
    ("while-two-carried", M + "def f(a, b, n):\n  k = 0\n  while k < n:\n"
     "    a, b = math.sin(b), a * b\n    k += 1\n  return a - b\n", [(0.9, 1.3, 3)], (0, 1)),
    ("running-maximum", "def f(x, cs):\n  m = -100.0\n  for c in cs:\n    v = c * x\n"
     "    if v > m:\n      m = v\n  return m * m\n", [(0.8, CS), (-0.8, CS)], (0,)),
    ("ifexp-in-loop", "def f(x, cs):\n  s = 1.0\n  for c in cs:\n"
     "    s = (s * x if s > c else s + c) + x\n  return s\n", [(0.9, CS), (-0.4, CS)], (0,)),
    ("condition-saved-in-loop", "def f(x, cs):\n  s = 1.0\n  for c in cs:\n"
     "    ok = s > c and c > 0.0\n    if ok:\n      s = s * x\n    s = s + x * c\n  return s\n",
     [(0.9, CS), (1.6, CS)], (0,)),
    ("newton-iteration", "def f(x, y):\n  r = y\n  for _ in range(6):\n"
     "    r = r - (r * r * r - x) / (3.0 * r * r)\n  return r * y\n", [(2.0, 1.3), (0.5, 0.9)],
     (0, 1)),
]


@pytest.mark.parametrize(
    "src, point, wrt",
    [pytest.param(src, point, wrt, id=f"{name}-{i}")
     for name, src, points, wrt in CASES for i, point in enumerate(points)],
)
def test_agrees_with_finite_differences(src, point, wrt):
    check_gradient(src, point, wrt=wrt)


# (source, point, the derivative worked out by hand)
HAND_DERIVED = [
    # x ** (2 ** n): 2 ** n * x ** (2 ** n - 1)
    ("def f(x, n):\n  for _ in range(n):\n    x = x * x\n  return x\n", (1.1, 3), 8 * 1.1 ** 7),
    # explicit Euler for y' = -x y, y(0) = 1, step h: (1 - h x) ** n, so -n h (1 - h x) ** (n - 1)
    ("def f(x, n):\n  y = 1.0\n  for _ in range(n):\n    y = y - 0.1 * x * y\n  return y\n",
     (2.0, 5), -5 * 0.1 * 0.8 ** 4),
    # Newton's method for sqrt(x) converges: 1 / (2 sqrt(x))
    ("def f(x):\n  y = x\n  for _ in range(30):\n    y = 0.5 * (y + x / y)\n  return y\n",
     (2.0,), 0.5 / 2.0 ** 0.5),
    # doubling until past 10: 1.5 -> 3 -> 6 -> 12 is 8 x
    ("def f(x):\n  y = x\n  while y < 10.0:\n    y = 2.0 * y\n  return y\n", (1.5,), 8.0),
    # x + x^2 + x^3 stops before x^4 > 4 at x = 1.5 (x^4 = 5.06): 1 + 2 x + 3 x^2
    ("def f(x):\n  s = 0.0\n  t = 1.0\n  while True:\n    t = t * x\n    if t > 4.0:\n"
     "      break\n    s = s + t\n  return s\n", (1.5,), 1 + 2 * 1.5 + 3 * 1.5 ** 2),
    # the sum of c x over positive c: sum of positive c
    ("def f(x, cs):\n  return sum(c * x for c in cs if c > 0.0)\n", (0.3, CS), 0.5 + 2.0 + 0.3),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("src, point, expected", HAND_DERIVED)
def test_matches_derivative_worked_out_by_hand(src, point, expected, mode):
    assert derivative(src, 0, mode)(*point) == pytest.approx(expected, rel=1e-12)


# What a reader sees in reverse mode: the primal sweep saves on `_stack` only the values that are
# overwritten before the adjoint sweep comes back to them, and a loop runs backwards as a loop.


def saved(text: str) -> set[str]:
    """The names the generated code tapes: on ``_stack``, or on a loop's own list."""
    return {
        node.id
        for call in ast.walk(ast.parse(text))
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        and call.func.attr == "append" and ast.unparse(call.func.value).startswith("_")
        for node in ast.walk(call.args[0]) if isinstance(node, ast.Name)
    }


# (source, point): straight-line code, or loops whose adjoint reads only items and fixed values
NOTHING_OVERWRITTEN = [
    (M + "def f(x, y):\n  a = x * y\n  b = math.sin(a)\n  c = b * x\n  return c * c + a\n",
     (0.7, 0.4)),
    (M + "def f(x):\n  y = x * x\n  y = math.sin(y) * y\n  y = y * x\n  return y\n", (0.7,)),
    (M + "def f(x):\n  if x > 0.0:\n    y = math.sin(x) * x\n  else:\n    y = x * x\n  return y\n",
     (0.7,)),
    ("def f(x, cs):\n  s = 0.0\n  for c in cs:\n    s += c * x\n  return s\n", (0.7, CS)),
    (M + "def f(x, cs):\n  a = math.sin(x)\n  s = 0.0\n  for c in cs:\n    s += a * c\n"
     "  return s\n", (0.7, CS)),
]


@pytest.mark.parametrize("src, point", NOTHING_OVERWRITTEN)
def test_nothing_is_saved_when_nothing_is_overwritten(src, point):
    assert "_stack" not in generated(src)
    check_gradient(src, point)


def test_value_never_overwritten_is_not_saved_but_one_overwritten_is():
    src = M + "def f(x, cs):\n  a = math.sin(x)\n  s = x\n  for c in cs:\n    s = s * a + c\n"
    src += "  return s\n"
    text = generated(src)
    assert "s" in saved(text), text  # s * a needs the s of each iteration
    assert "a" not in saved(text), text  # a is computed once and never changes
    check_gradient(src, (0.7, CS))


def test_sine_fit_reverse_walks_the_soft_tests_once_with_nothing_saved():
    # xs and ys have no annotation: they may be iterators, read once, and are read once
    text = generated((ROOT / "samples" / "sine_fit.py").read_text(), "omega", name="loss")
    assert "_stack" not in text and "reversed" not in text and "list(" not in text, text
    assert re.search(r"^ *for x, y in zip\(xs, ys\):$", text, re.MULTILINE), text
    assert text.count("for ") == 1, text
    loss_pr = derivative((ROOT / "samples" / "sine_fit.py").read_text(), "omega", name="loss")
    xs, ys = [0.1, 0.5, -0.3], [0.2, 0.6, -0.4]
    assert loss_pr(1.3, iter(xs), iter(ys)) == loss_pr(1.3, xs, ys)


@pytest.mark.parametrize("header", ["for i in range(len(xs)):\n    x, y = xs[i], ys[i]",
                                    "for x, y in zip(xs, ys):"])
def test_a_loop_of_sums_over_lists_is_differentiated_in_one_pass_with_nothing_saved(header):
    src = (M + "def loss(omega: float, xs: list[float], ys: list[float]):\n  total = 0.0\n  "
           + header + "\n    r = math.sin(omega * x) - y\n"
           "    total = total + r * r\n  return total\n")
    text = generated(src, "omega")
    assert "_stack" not in text and "reversed" not in text, text
    assert text.count("for ") == 1, text
    check_gradient(src, (1.3, [0.1, 0.5, -0.3, 1.2], [0.2, 0.6, -0.4, 0.9]))


def test_a_loop_whose_iterations_depend_on_each_other_still_saves_them():
    src = (M + "def f(x: float, cs: list[float]):\n  s = x\n  for c in cs:\n"
           "    s = math.sin(s) * c\n")
    src += "  return s\n"
    text = generated(src)
    assert "s" in saved(text) and "reversed" in text, text
    check_gradient(src, (0.7, CS))


FOR_LOOPS = [name for name, src, _, _ in CASES
             if "for " in src and "while " not in src and "sum(" not in src]


def adjoint_sweep(text: str) -> list[ast.stmt]:
    """The statements of the generated function from the first adjoint ``d_...`` onwards."""
    fn = next(node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef))
    start = next(i for i, stmt in enumerate(fn.body) if isinstance(stmt, ast.Assign)
                 and any(getattr(t, "id", "").startswith("d_") for t in stmt.targets))
    return fn.body[start:]


@pytest.mark.parametrize("name", FOR_LOOPS)
def test_for_loop_reverses_as_a_for_loop(name):
    src = next(src for n, src, _, _ in CASES if n == name)
    text = generated(src)
    assert "while" not in text, text
    backwards = [node for stmt in adjoint_sweep(text) for node in ast.walk(stmt)
                 if isinstance(node, ast.For)]
    assert len(backwards) == src.count("for "), text


def test_while_loop_reverses_as_a_for_loop_over_its_trip_count():
    src = "def f(x):\n  y = x\n  while y < 10.0:\n    y = y * 1.5 + x\n  return y\n"
    text = generated(src)
    whiles = [node for node in ast.walk(ast.parse(text)) if isinstance(node, ast.While)]
    backwards = [node for stmt in adjoint_sweep(text) for node in ast.walk(stmt)]
    assert len(whiles) == 1, text  # the primal sweep's loop, counting its trips
    assert [type(node) for node in backwards if isinstance(node, (ast.For, ast.While))] == [
        ast.For], text


# (source, wrt, what the message must say)
REFUSED = [
    ("def f(x, n):\n  for i in range(n):\n    x = x * x\n  else:\n    x = -x\n  return x\n", 0,
     r"'else' on a loop is not supported: move the code after the loop"),
    ("def f(x):\n  while x < 3.0:\n    x = x * 2.0\n  else:\n    x = -x\n  return x\n", 0,
     r"'else' on a loop is not supported: move the code after the loop"),
    ("def f(x, n):\n  s = x\n  for i in range(n):\n    i = i + 1\n    s = s * x\n  return s\n", 0,
     r"assigning to the loop variable 'i' inside the loop is not supported"),
    ("def f(x, xs, ys):\n  s = 0.0\n  for a, b in zip(xs, ys):\n    b += x\n    s = s + a * b\n"
     "  return s\n", 0, r"assigning to the loop variable 'b' inside the loop is not supported"),
    ("def f(x, n):\n  s = x\n  for i in range(n):\n    s = s * 2.0\n  return s\n", "n",
     r"'n': it is only used as a loop bound"),
    ("def f(x, n):\n  s = x\n  for i in reversed(range(n)):\n    s = s * x\n  return s\n", "n",
     r"'n': it is only used as a loop bound"),
    ("def f(x, n):\n  m = 2 * n\n  s = x\n  for i in range(1, m):\n    s = s * x\n  return s\n",
     (0, 1), r"'n': it is only used as a loop bound"),
    ("def f(x, xs):\n  s = 0.0\n  for v in xs:\n    s += v * x\n  return s\n", "xs",
     r"looping over a value that depends on wrt"),
    ("def f(x, xs, ys):\n  s = 0.0\n  for a, b in zip(xs, ys):\n    s += a * b * x\n  return s\n",
     "ys", r"looping over a value that depends on wrt"),
    ("def f(x, xs):\n  s = 0.0\n  for i, v in enumerate(xs):\n    s += v * x ** i\n  return s\n",
     (0, 1), r"looping over a value that depends on wrt"),
    ("def f(x, xs):\n  return sum(v * x for v in xs)\n", "xs",
     r"looping over a value that depends on wrt"),
]


@pytest.mark.parametrize("src, wrt, match", REFUSED)
def test_refuses(src, wrt, match):
    check_rejects(src, match, wrt=wrt)


# cases that once went wrong: swaps in a branch, a loop variable read after its loop or reusing
# an active name (both modes against finite differences), and a while-loop count as wrt
CS = [0.5, -1.2, 2.0, 0.3]
REGRESSIONS = [
    ("def f(x, y):\n    if x > y:\n        x, y = y, x\n    return x * 2.0 + y\n", (0.9, 0.3),
     (0, 1)),
    ("def f(x, n):\n    a, b = 1.0, x\n    for _ in range(n):\n        a, b = b, a\n"
     "    return a * 2.0 + b\n", (0.5, 1), (0,)),
    ("def f(x, n):\n    s = 0.0\n    for i in range(n):\n        s = s + x * i\n"
     "    return s * i\n", (0.7, 3), (0,)),
    ("def f(x, n):\n    i = 0\n    s = 0.0\n    for i in range(n):\n        s = s + x * i\n"
     "    return s * i\n", (0.7, 3), (0,)),
    ("def f(x, cs):\n    s = 0.0\n    for c in cs:\n        s += c * x\n    return s * c\n",
     (0.7, CS), (0,)),
    ("def f(x, cs):\n    c = x * 2.0\n    s = 0.0\n    for c in cs:\n        s += c * x\n"
     "    return s + c * x\n", (0.6, CS), (0,)),
]


@pytest.mark.parametrize("src, args, wrt", REGRESSIONS)
def test_regressions_agree_with_finite_differences(src, args, wrt):
    check_gradient(src, args, wrt)


def test_a_while_loop_count_as_wrt_is_refused():
    src = ("def f(x, n):\n    s = x\n    k = 0\n    while k < n:\n        k += 1\n"
           "        s = s * x\n    return s\n")
    check_rejects(src, "'n': it is only used as a loop bound", wrt="n")
