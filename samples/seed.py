"""The seed examples: the functions the article differentiates by hand."""

import math


def f(x):
    return 3 * x


def g(x):
    return math.sin(x)


def h(x):
    return math.sin(x) ** 2 + math.exp(-x * x)
