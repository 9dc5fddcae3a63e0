"""NumPy's structural operations on arrays, checked against central finite differences in both
modes.

One row per case: the expression as a user writes it in the arrays ``a`` and ``b``, their shapes,
and the interval their elements are drawn from. The function under test is
``np.sum(np.sin(<expr>))``, whose gradient weighs every element of the result differently, so a
wrong Jacobian entry shows.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from conftest import (
    MODES,
    check_array_gradient,
    check_differentiates_again,
    check_rejects,
    derivative,
    generated,
)
from test_batched_forward import HELPERS_DIFFERENTIATED_AGAIN
from test_linalg_rules import HELPERS as LINALG_HELPERS
from test_linalg_rules import LINALG

from ad_transpile.registry import builtin


class Case(NamedTuple):
    expr: str
    shapes: tuple[tuple[int, ...], ...]  # one per argument: a, then b
    low: float = -2.0
    high: float = 2.0


TABLE = [
    # reductions, as functions and as methods, with axis and keepdims
    Case("np.sum(a)", ((3, 4),)),
    Case("np.sum(a + np.ones(4))", ((),)),  # a number's tangent stretched before the sum
    Case("np.sum(a, axis=0)", ((3, 4),)),
    Case("np.sum(a, axis=-1, keepdims=True)", ((3, 4),)),
    Case("np.sum(a, axis=(0, 2))", ((2, 3, 4),)),
    Case("a.sum(axis=1)", ((3, 4),)),
    Case("np.mean(a)", ((3, 4),)),
    Case("np.mean(a, axis=1)", ((3, 4),)),
    Case("a.mean(axis=0, keepdims=True)", ((3, 4),)),
    Case("np.prod(a)", ((2, 3),), 0.5, 1.5),
    Case("np.prod(a, axis=0)", ((3, 4),), 0.5, 1.5),
    Case("np.max(a)", ((3, 4),)),
    Case("np.max(a, axis=1)", ((3, 4),)),
    Case("a.max(axis=0, keepdims=True)", ((3, 4),)),
    Case("np.min(a, axis=0)", ((3, 4),)),
    Case("a.min()", ((5,),)),
    Case("np.amax(a, axis=0)", ((3, 4),)),
    Case("np.amin(a)", ((3, 4),)),
    Case("np.var(a)", ((3, 4),)),
    Case("np.var(a, axis=0, ddof=1)", ((3, 4),)),
    Case("np.std(a)", ((3, 4),)),
    Case("a.std(axis=1, keepdims=True)", ((3, 4),)),
    Case("np.ptp(a)", ((3, 4),)),
    Case("np.ptp(a, axis=1)", ((3, 4),)),
    Case("np.ptp(a, 0, keepdims=True) * b", ((3, 4), (4,))),
    Case("np.average(a)", ((3, 4),)),
    Case("np.average(a, axis=0)", ((3, 4),)),
    Case("np.average(a, axis=1, weights=np.array([1.0, 2.0, 0.5, 3.0]))", ((3, 4),)),
    Case("np.average(a, weights=np.arange(6.0).reshape(2, 3) + 1.0)", ((2, 3),)),
    Case("np.average(a, -1, np.arange(1.0, 4.0), keepdims=True) * a", ((2, 3),)),
    Case("np.average(a, weights=b * b + 0.5)", ((2, 3), (2, 3))),  # along the weights too
    Case("np.average(a, axis=1, weights=np.exp(b))", ((2, 3), (3,))),
    Case("np.average(a * b, axis=0, weights=b[:, 0] + 3.0, keepdims=True)", ((3, 2), (3, 2))),
    Case("np.nansum(a)", ((3, 4),)),
    Case("np.nansum(np.where(a > 0.5, np.nan, a), axis=0)", ((3, 4),)),  # nan: no derivative
    Case("np.nanmean(np.where(a > 0.5, np.nan, a))", ((3, 4),)),
    Case("np.nanmean(np.where(a > 0.5, np.nan, a), axis=1, keepdims=True) * b", ((3, 4), (4,))),
    Case("np.trapezoid(a)", ((5,),)),
    Case("np.trapezoid(a, dx=0.5, axis=0)", ((4, 3),)),
    Case("np.trapezoid(a, np.array([0.0, 0.5, 1.5, 2.0]))", ((3, 4),)),
    Case("np.trapezoid(a, x=np.cumsum(np.ones((4, 3)), axis=0) ** 2, axis=0)", ((4, 3),)),
    Case("np.trapezoid(a, b)", ((5,), (5,))),  # along x too
    Case("np.trapezoid(a, b, axis=0)", ((4, 3), (4,))),
    Case("np.trapezoid(a * b, x=b * b)", ((2, 4), (2, 4))),
    Case("np.trapezoid(a, x=b, axis=-2)", ((2, 4, 3), (4, 1))),  # x broadcast
    Case("np.gradient(a)", ((5,),)),
    Case("np.gradient(a, 0.5, edge_order=2)", ((5,),)),
    Case("np.gradient(a, np.array([0.0, 0.3, 1.0, 1.2, 2.0]))", ((5,),)),  # uneven steps
    Case("np.gradient(a, axis=0)", ((4, 3),)),
    Case("np.gradient(a, 2.0, axis=-1, edge_order=2) * b", ((2, 3, 4), (4,))),
    Case("np.linalg.norm(a)", ((5,),)),
    Case("np.linalg.norm(a)", ((3, 4),)),
    Case("np.linalg.norm(a, axis=1)", ((3, 4),)),
    # other ords: vectors, then matrices (1, inf: a column's, a row's sum of |a|; 2, nuc:
    # of singular values), then along axes
    Case("np.linalg.norm(a, 1)", ((5,),)),
    Case("np.linalg.norm(a, 2)", ((5,),)),
    Case("np.linalg.norm(a, np.inf)", ((5,),)),
    Case("np.linalg.norm(a, ord=-np.inf)", ((5,),)),
    Case("np.linalg.norm(a, 3)", ((5,),)),
    Case("np.linalg.norm(a, 0.5)", ((5,),)),
    Case("np.linalg.norm(a, -1.5)", ((5,),)),
    Case("np.linalg.norm(a, 'fro')", ((3, 4),)),
    Case("np.linalg.norm(a, 'nuc')", ((3, 4),)),
    Case("np.linalg.norm(a, 2)", ((3, 4),)),
    Case("np.linalg.norm(a, -2)", ((4, 3),)),
    Case("np.linalg.norm(a, 1)", ((3, 4),)),
    Case("np.linalg.norm(a, -1)", ((3, 4),)),
    Case("np.linalg.norm(a, np.inf)", ((3, 4),)),
    Case("np.linalg.norm(a, -np.inf)", ((3, 4),)),
    Case("np.linalg.norm(a, 3, axis=1, keepdims=True)", ((3, 4),)),
    Case("np.linalg.norm(a, np.inf, axis=0) * b", ((3, 4), (4,))),
    Case("np.linalg.norm(a, 'nuc', axis=(2, 0))", ((2, 3, 4),)),
    Case("np.linalg.norm(a, 2, (0, 2), True)", ((2, 3, 4),)),
    Case("np.cumsum(a)", ((3, 4),)),
    Case("np.cumsum(a, axis=1)", ((3, 4),)),
    Case("np.cumprod(a)", ((5,),)),
    Case("np.cumprod(a)", ((3, 4),), 0.5, 1.5),  # flattened
    Case("np.cumprod(a, axis=0)", ((3, 4),)),
    Case("np.cumprod(a, 1) * b", ((3, 4), (4,))),
    Case("a.cumprod(axis=-2)", ((2, 3, 4),)),
    Case("a.cumprod()", ((2, 3),)),
    Case("np.repeat(a, 2)", ((3,),)),
    Case("np.repeat(a, 2)", ((2, 3),)),  # flattened
    Case("np.repeat(a, 2, axis=0)", ((2, 3),)),
    Case("np.repeat(a, np.array([1, 0, 2]), axis=1)", ((2, 3),)),
    Case("np.repeat(a, 3, axis=-1) * b", ((2, 3), (9,))),
    Case("np.sort(a)", ((3, 4),)),
    Case("np.sort(a, axis=0) * b", ((3, 4), (4,))),
    Case("np.sort(a, None)", ((3, 4),)),
    Case("np.take_along_axis(a, np.argsort(b, axis=1), 1)", ((3, 4), (3, 4))),
    Case("np.take_along_axis(a, np.array([[0, 0, 2], [1, 1, 1]]), 1)", ((2, 3),)),  # twice
    Case("np.take_along_axis(a, np.array([5, 0, 5]), None)", ((2, 3),)),
    Case("np.take(a, np.array([4, 0, 4, 2]))", ((2, 3),)),  # flattened; 4 taken twice
    Case("np.take(a, 2)", ((5,),)),
    Case("np.take(a, np.array([[1, 1], [0, 2]]), axis=1)", ((2, 3),)),
    Case("np.take(a, 1, axis=0) * b", ((3, 4), (4,))),
    Case("np.take(a, np.array([0, 0]), -1) * b", ((2, 3, 4), (2,))),
    Case("scipy.special.logsumexp(a)", ((3, 4),)),
    Case("scipy.special.logsumexp(a, axis=1)", ((3, 4),)),
    Case("scipy.special.logsumexp(a, axis=-1, keepdims=True) * b", ((2, 3, 4), (4,))),
    Case("scipy.special.logsumexp(a, axis=(0, 2))", ((2, 3, 4),)),
    Case("scipy.special.softmax(a)", ((5,),)),
    Case("scipy.special.softmax(a, axis=1) * b", ((3, 4), (4,))),
    Case("scipy.special.softmax(a, axis=0)", ((3, 4),)),
    Case("scipy.special.log_softmax(a, axis=-1)", ((3, 4),)),
    Case("scipy.special.log_softmax(a)", ((2, 3),)),
    Case("np.diff(a)", ((5,),)),
    Case("np.diff(a, axis=0)", ((3, 4),)),
    Case("np.diff(a, 2)", ((3, 5),)),
    Case("np.diff(a, n=3, axis=-2) * b", ((2, 5, 3), (3,))),
    Case("np.roll(a, 1)", ((5,),)),
    Case("np.roll(a, -2)", ((3, 4),)),
    Case("np.roll(a, 1, axis=0)", ((3, 4),)),
    Case("np.roll(a, (1, -1), axis=(0, -1))", ((2, 3, 4),)),
    # products: matrices, vectors and stacks
    Case("a @ b", ((3, 4), (4, 2))),
    Case("a @ b", ((4,), (4, 2))),
    Case("a @ b", ((3, 4), (4,))),
    Case("a @ b", ((4,), (4,))),
    Case("a @ b", ((2, 3, 4), (4, 2))),
    Case("np.matmul(a, b)", ((3, 4), (4, 2))),
    Case("np.dot(a, b)", ((3, 4), (4, 2))),
    Case("np.dot(a, b)", ((4,), (4,))),
    Case("a.dot(b)", ((3, 4), (4,))),
    Case("np.dot(a, b)", ((2, 3, 4), (5, 4, 2))),  # a stack of matrices against one
    Case("np.dot(a, b)", ((), (3,))),  # a number times an array
    Case("np.outer(a, b)", ((3,), (4,))),
    Case("np.outer(a, b)", ((2, 3), (4,))),  # flattened
    Case("np.inner(a, b)", ((2, 3, 4), (5, 4))),
    Case("np.tensordot(a, b)", ((2, 3, 4), (3, 4, 2))),
    Case("np.tensordot(a, b, axes=([0], [1]))", ((3, 4), (2, 3))),
    Case("np.inner(a, b)", ((4,), (4,))),
    Case("np.inner(a, b)", ((3, 4), (2, 4))),
    Case("np.inner(a, b)", ((3, 4), (4,))),
    Case("np.inner(a, b)", ((4,), (2, 4))),
    Case("np.vdot(a, b)", ((3,), (3,))),
    Case("np.vdot(a, b)", ((2, 3), (6,))),  # flattened
    Case("np.kron(a, b)", ((3,), (2,))),
    Case("np.kron(a, b)", ((2, 3), (2, 2))),
    Case("np.kron(a, b)", ((3,), (2, 2))),  # a given a first axis of 1
    Case("np.kron(a, b)", ((2, 1, 3), (2, 2))),
    Case("np.cross(a, b)", ((3,), (3,))),
    Case("np.cross(a, b)", ((4, 3), (3,))),  # a stack against one vector
    Case("np.cross(a, b, axis=0)", ((3, 2), (3, 2))),
    Case("np.cross(a, b, axis=-2)", ((2, 3, 2), (1, 3, 2))),
    Case("np.vecdot(a, b)", ((3,), (3,))),
    Case("np.vecdot(a, b)", ((2, 3), (3,))),  # broadcast
    Case("np.vecdot(a, b, axis=0) * a[0]", ((3, 4), (3, 1))),
    Case("np.convolve(a, b)", ((5,), (3,))),
    Case("np.convolve(a, b, 'same')", ((5,), (3,))),
    Case("np.convolve(a, b, mode='same')", ((2,), (5,))),  # the longer one second
    Case("np.convolve(a, b, mode='valid')", ((4,), (6,))),
    Case("np.polyval(a, b)", ((4,), (3,))),
    Case("np.polyval(a, b)", ((3,), ())),
    Case("np.polyval(a, b)", ((2,), (2, 3))),
    Case("np.interp(a, np.array([-1.0, 0.0, 0.5, 1.5]), b)", ((5,), (4,))),  # some outside
    Case("np.interp(a, np.array([-3.0, -1.0, 0.5, 3.0]), b)", ((), (4,))),
    Case("np.interp(a, np.linspace(-2.0, 2.0, 3), b * b)", ((2, 3), (3,))),
    Case("np.interp(a, np.array([-1.0, 0.0, 1.5]), b, left=0.5)", ((6,), (3,))),
    Case("np.interp(a, np.array([-1.0, 1.0]), b, right=-1.0, left=2.0)", ((3, 2), (2,))),
    Case("np.select([a > 0.5, a < -0.5], [a * a, b])", ((3, 4), (3, 4))),
    Case("np.select([a > 0.0], [b], default=1.0) * a", ((3, 4), (4,))),  # a choice broadcast
    Case("np.select((a > 0.5, b > 0.0), (b, 2.0 * a), 0.5)", ((5,), (5,))),
    Case("np.select([a > 0.5, a < -1.0], [a, a * a], default=b)", ((3, 4), ())),  # the default
    Case("np.select([a > 0.0], [a], b * b)", ((3, 4), (4,))),
    Case("np.einsum('ij,jk->ik', a, b)", ((3, 4), (4, 2))),
    Case("np.einsum('bij,bjk->bik', a, b)", ((2, 3, 4), (2, 4, 2))),
    Case("np.einsum('ij,j', a, b)", ((3, 4), (4,))),  # implicit output: i
    Case("np.einsum('i,i->', a, b)", ((4,), (4,))),
    Case("np.einsum('ij,k->ik', a, b)", ((3, 4), (2,))),  # j summed away in a alone
    Case("np.einsum('ij->ji', a)", ((3, 4),)),
    Case("np.einsum('ij->i', a)", ((3, 4),)),
    Case("np.einsum('ii->i', a)", ((3, 3),)),  # a diagonal
    Case("np.einsum('iij,jk->ik', a, b)", ((3, 3, 2), (2, 4))),
    Case("np.einsum('...ij,...jk->...ik', a, b)", ((5, 2, 3), (5, 3, 4))),
    # three or four operands: each in turn takes its tangent's place
    Case("np.einsum('ij,jk,kl->il', a, b, c)", ((2, 3), (3, 4), (4, 2))),
    Case("np.einsum('...ij,...jk,k->...i', a, b, c)", ((2, 3, 4), (2, 4, 3), (3,))),
    Case("np.einsum('ij,jk,kk', a, b, c)", ((2, 3), (3, 3), (3, 3))),  # implicit output: i
    Case("np.einsum('i,ij,jk,k', a, b, c, a)", ((3,), (3, 3), (3, 3))),  # a twice
    Case("np.einsum('...i,...i', a, b)", ((1, 3), (4, 3))),  # a length of 1 broadcast
    # shapes
    Case("np.transpose(a)", ((3, 4),)),
    Case("np.transpose(a, (1, 2, 0))", ((2, 3, 4),)),
    Case("np.transpose(a, (-1, 0, 1))", ((2, 3, 4),)),  # axes counted from the end
    Case("a.T", ((3, 4),)),
    Case("np.reshape(a, (4, 3))", ((3, 4),)),
    Case("a.reshape(2, 6)", ((3, 4),)),
    Case("np.ravel(a)", ((3, 4),)),
    Case("a.flatten()", ((3, 4),)),
    Case("np.squeeze(a)", ((3, 1, 4),)),
    Case("np.squeeze(a, axis=1)", ((3, 1, 4),)),
    Case("np.expand_dims(a, 1)", ((3, 4),)),
    Case("np.swapaxes(a, 0, 1)", ((3, 4),)),
    Case("np.swapaxes(a, -1, 0)", ((2, 3, 4),)),  # an axis counted from the end
    Case("np.moveaxis(a, 0, -1)", ((2, 3, 4),)),
    Case("np.moveaxis(a, (0, 1), (2, 0))", ((2, 3, 4),)),
    Case("np.fliplr(a)", ((3, 4),)),
    Case("np.permute_dims(a)", ((3, 4),)),  # NumPy 2's name for np.transpose
    Case("np.permute_dims(a, (2, 0, 1))", ((2, 3, 4),)),
    Case("np.matrix_transpose(a)", ((3, 4),)),
    Case("np.matrix_transpose(a) * b", ((2, 3, 4), (3,))),
    Case("np.rollaxis(a, 2)", ((2, 3, 4),)),
    Case("np.rollaxis(a, 0, 3)", ((2, 3, 4),)),  # to the end
    Case("np.rollaxis(a, -1, 1)", ((2, 3, 4),)),
    Case("np.rollaxis(a, 1, start=-1) * b", ((2, 3, 4), (4,))),
    Case("a.swapaxes(0, -1)", ((2, 3, 4),)),
    Case("a.round(1) * a", ((3, 4),)),
    Case("np.diagonal(a)", ((3, 4),)),
    Case("np.diagonal(a, 1)", ((3, 4),)),
    Case("np.diagonal(a, offset=-1, axis1=1, axis2=2)", ((2, 3, 4),)),
    Case("np.diagonal(a, 0, -1, 0) * b", ((3, 2, 4), (2, 3))),
    Case("np.diag(a)", ((4,),)),
    Case("np.diag(a, 1) @ b", ((3,), (4, 2))),
    Case("np.diag(a)", ((3, 4),)),
    Case("np.diag(a, -1) * b", ((4, 3), (3,))),
    Case("np.flip(a)", ((3, 4),)),
    Case("np.flip(a, 1)", ((3, 4),)),
    Case("np.flip(a, axis=(0, 2))", ((2, 3, 4),)),
    Case("np.flip(a, -1) * b", ((3, 4), (4,))),
    Case("np.rot90(a)", ((3, 4),)),
    Case("np.rot90(a, 3)", ((3, 4),)),
    Case("np.rot90(a, 2, axes=(1, 2))", ((2, 3, 4),)),
    Case("np.rot90(a, axes=(-1, -2))", ((2, 3, 4),)),
    Case("np.triu(a)", ((4, 4),)),
    Case("np.triu(a, 1) * b", ((3, 4), (4,))),
    Case("np.triu(a, -1)", ((2, 3, 4),)),
    Case("np.tril(a)", ((4, 3),)),
    Case("np.tril(a, k=1)", ((2, 3, 3),)),
    Case("np.atleast_1d(a) * b", ((), (3,))),
    Case("np.atleast_2d(a)", ((4,),)),
    Case("np.atleast_2d(a) @ b", ((3,), (3, 2))),
    Case("np.atleast_3d(a)", ((3, 4),)),
    Case("np.atleast_3d(a)", ((4,),)),
    Case("np.flipud(a)", ((3, 4),)),
    Case("np.flipud(a)", ((3,),)),
    Case("np.trace(a)", ((3, 3),)),
    Case("np.trace(a)", ((3, 4),)),
    Case("np.trace(a) * a", ((3, 4, 2),)),  # a trace over the first two axes of three
    Case("np.tile(a, (2, 3))", ((3, 4),)),
    Case("np.tile(a, 2)", ((3,),)),
    Case("np.broadcast_to(a, (3, 4))", ((4,),)),
    # joining arrays: each gets its piece of the adjoint back
    Case("np.concatenate([a, b])", ((3,), (4,))),
    Case("np.concatenate([a, b], axis=None)", ((2, 3), (4,))),
    Case("np.concatenate((b, np.ones(2), a * a), axis=None)", ((3, 2), (2, 2))),
    Case("np.concatenate((a, 2.0 * b, a), axis=1)", ((3, 2), (3, 4))),
    Case("np.concatenate([a, np.ones((3, 1))], axis=-1)", ((3, 2),)),
    Case("np.append(a, b)", ((2, 3), (4,))),  # both flattened
    Case("np.append(a, 1.5) * a[0]", ((3,),)),
    Case("np.append(a, b, axis=0)", ((2, 3), (1, 3))),
    Case("np.append(a, b * a, -1)", ((3, 2), (3, 2))),
    Case("np.append(np.ones((2, 2)), a, axis=1)", ((2, 3),)),
    Case("np.pad(a, 2)", ((3,),)),
    Case("np.pad(a, ((1, 0), (2, 1)), constant_values=1.5)", ((2, 3),)),
    Case("np.pad(a, (1, 2), 'constant') * b", ((2, 3), (6,))),
    Case("np.pad(a, 2, mode='edge')", ((2, 3),)),
    Case("np.pad(a, ((1, 2), (0, 2)), mode='reflect')", ((3, 3),)),
    Case("np.pad(a, 2, mode='symmetric')", ((3,),)),
    Case("np.pad(a, ((0, 1), (4, 1)), mode='wrap')", ((2, 3),)),  # wraps more than once
    Case("np.concat([a, b])", ((3,), (4,))),  # NumPy 2's name for np.concatenate
    Case("np.concat((a, b), axis=None)", ((2, 3), (4,))),
    Case("np.concat([a, b * a], axis=-1)", ((3, 2), (3, 2))),
    Case("np.stack([a, b])", ((3,), (3,))),
    Case("np.stack([a, b], axis=1)", ((3, 2), (3, 2))),
    Case("np.hstack([a, b])", ((3,), (2,))),
    Case("np.hstack([a, b])", ((3, 1), (3, 2))),
    Case("np.vstack([a, b])", ((3,), (3,))),
    Case("np.vstack([a, b])", ((2, 3), (1, 3))),
    Case("np.column_stack([a, b])", ((3,), (3,))),
    Case("np.column_stack((a, b, a))", ((3, 2), (3,))),
    Case("np.column_stack([a, np.ones(3)])", ((3, 2),)),
    Case("np.dstack([a, b])", ((3,), (3,))),
    Case("np.dstack((a, b))", ((2, 3), (2, 3))),
    Case("np.dstack([a, b * b])", ((2, 3, 2), (2, 3))),
    Case("np.array([a, b, a * b])", ((), ())),
    Case("np.array([a, b])", ((3,), (3,))),
    Case("np.array([[a, -b], [b, a]])", ((), ())),  # nested lists of numbers
    Case("np.array([[a, 1.0], [0.5, b * a]])", ((), ())),
    Case("np.array([[a, b], [b, 2.0 * a]])", ((3,), (3,))),  # nested lists of arrays
    # arrays made from numbers: linear in the fill value and in the ends
    Case("np.full((2, 3), a)", ((),)),
    Case("np.full((2, 3), a)", ((3,),)),
    Case("np.full_like(b, a)", ((), (2, 3))),
    Case("np.linspace(a, b, 5)", ((), ())),
    Case("np.linspace(a, b, 4, endpoint=False)", ((3,), ())),
    # elementwise with broadcasting: scalars, (n, 1) against (1, m), leading dimensions
    Case("a * b", ((3, 1), (1, 4))),
    Case("a + b", ((3, 4), (4,))),
    Case("a / b", ((3, 4), ()), 0.5, 2.0),
    Case("a ** b", ((3, 4), (4,)), 0.5, 2.0),  # the exponent an array too
    Case("np.power(a, b)", ((3,), ()), 0.5, 2.0),
    Case("np.maximum(a, b)", ((3, 4), (4,))),
    Case("np.where(a > b, a * b, b)", ((3, 4), (3, 4))),
    Case("np.clip(a, -1.0, 1.0)", ((3, 4),)),
    Case("a.clip(-1.0, 1.0)", ((3, 4),)),
    # indexing and slicing, the adjoint scattered back
    Case("a[0]", ((3, 4),)),
    Case("a[1, 2]", ((3, 4),)),
    Case("a[1:-1]", ((5,),)),
    Case("a[:, 0]", ((3, 4),)),
    Case("a[::2]", ((5,),)),
    Case("a[..., 1:]", ((2, 3, 4),)),
    Case("a[np.array([0, 2, 2])]", ((4,),)),  # a repeated index: its adjoint adds up
    Case("a[a > 0.0]", ((3, 4),)),
    Case("a[b.astype(int) % 3]", ((4,), (5,))),
]

SEED = 20261126


# Each case's tests run in one worker under xdist: its derivatives are made once (see conftest)
CASES = [pytest.param(case, id=f"{case.expr} {case.shapes}",
                      marks=pytest.mark.xdist_group(f"case {case.expr} {case.shapes}"))
         for case in TABLE]


def source(case: Case) -> str:
    params = ", ".join("abc"[: len(case.shapes)])
    scipy = "import scipy.special\n" if "scipy." in case.expr else ""
    return (f"import numpy as np\n{scipy}\n\ndef f({params}):\n"
            f"    return np.sum(np.sin({case.expr}))\n")


def differentiable(case: Case) -> tuple[int, ...]:
    """The arguments the case's result depends on smoothly (not ``b`` used as an index)."""
    index_only = "astype" in case.expr or "argsort(b" in case.expr
    return tuple(i for i in range(len(case.shapes)) if not index_only or i == 0)


def arguments(case: Case) -> tuple:
    rng = np.random.default_rng(SEED)
    drawn = [rng.uniform(case.low, case.high, size=shape) for shape in case.shapes]
    return tuple(float(a) if a.shape == () else a for a in drawn)


@pytest.mark.parametrize("case", CASES)
def test_every_argument_matches_finite_differences(case):
    args = arguments(case)
    for i in differentiable(case):
        check_array_gradient(source(case), args, wrt=(i,))
    if len(differentiable(case)) > 1:
        check_array_gradient(source(case), args, wrt=differentiable(case))


@pytest.mark.parametrize("case", CASES)
def test_the_gradient_differentiates_again(case):
    """Forward mode over the generated gradient: a Hessian-vector product, checked against
    central differences of the gradient along the same direction."""
    args = arguments(case)
    for i in differentiable(case):
        check_differentiates_again(source(case), args, i, SEED + 1)


def test_the_table_covers_every_structural_rule():
    rules = builtin().rules.items()
    structural = {name for (name, _), rule in rules if rule.structural}
    helpers = {name for name in structural if name.startswith("ad_transpile.runtime.")}
    # the helpers of batched forward-mode files, differentiated again in test_batched_forward
    covered = {f"ad_transpile.runtime.{h}" for h in HELPERS_DIFFERENTIATED_AGAIN}
    covered |= LINALG | LINALG_HELPERS  # test_linalg_rules.py's table checks each of them
    for case in TABLE:
        wrt = differentiable(case)
        wrt = wrt if len(wrt) > 1 else wrt[0]  # as check_array_gradient asks: made once
        text = generated(source(case), wrt)
        covered |= {name for name in structural - helpers if _spelled(name) in case.expr}
        # the one-tangent sweep (jvp): a forward-mode gradient file is batched on arrays
        text += generated(source(case), wrt, "forward", kind="jvp")
        covered |= {name for name in helpers if f"{name.rpartition('.')[2]}(" in text}
    assert structural - covered == set()


def _spelled(name: str) -> str:
    """How the table writes a primitive: ``@`` for ``operator.matmul``, ``.T``, ``np.sum``."""
    special = {"operator.matmul": " @ ", "numpy.ndarray.T": ".T", "numpy.ndarray.flatten":
               ".flatten("}
    return special.get(name, name.replace("numpy.", "np.") + "(")


@pytest.mark.parametrize("mode", MODES)
def test_a_gradient_has_the_shape_of_its_argument(mode):
    src = "import numpy as np\n\ndef f(w, x):\n    return np.sum((x @ w) ** 2)\n"
    w, x = np.ones((4, 2)), np.ones((3, 4))
    gradient = derivative(src, 0, mode)  # forward: one sweep of batched tangents
    assert gradient(w, x).shape == (4, 2)


def test_an_index_inside_a_loop_scatters_into_one_array():
    src = """
import numpy as np

def f(x):
    total = 0.0
    for i in range(len(x) - 1):
        total = total + (x[i + 1] - x[i] ** 2) ** 2
    return total
"""
    text = generated(src, 0)
    assert "d_x = np.zeros_like(x, dtype=float)" in text
    assert "d_x[i] += " in text and "np.add.at" not in text
    check_array_gradient(src, (np.linspace(-1.0, 1.0, 6),))


def test_an_index_that_may_repeat_adds_up_with_add_at():
    src = "import numpy as np\n\ndef f(x, i):\n    return np.sum(x[i] ** 2)\n"
    text = generated(src, 0)
    assert "np.add.at(d_x, i, " in text
    x, i = np.array([1.0, 2.0, 3.0]), np.array([0, 2, 2])
    np.testing.assert_allclose(derivative(src, 0)(x, i), [2.0, 0.0, 12.0])


def test_an_adjoint_shared_by_two_arguments_is_not_changed_in_place():
    # y = a + b gives d_a and d_b the same array; adding to one must not change the other
    src = """
import numpy as np

def f(x):
    a = np.sin(x)
    b = np.cos(x)
    y = a + b
    return np.sum(y * a * b)
"""
    check_array_gradient(src, (np.linspace(-1.0, 1.0, 5),))


@pytest.mark.parametrize("axis", [None, 1, 0])
def test_a_running_product_is_exact_where_an_element_is_zero(axis):
    # its partials are products of the other elements, never the product divided by one
    src = (f"import numpy as np\n\ndef f(a):\n"
           f"    return np.sum(np.sin(np.cumprod(a, axis={axis})))\n")
    a = np.array([[1.5, 0.0, 2.0, -0.5], [0.0, 0.0, -1.2, 0.7], [0.9, 1.1, 0.0, 1.3]])
    check_array_gradient(src, (a,))
    check_differentiates_again(src, (a,), 0, SEED)


@pytest.mark.parametrize("mode", ["maximum", "mean", "linear_ramp"])
def test_padding_by_a_mode_without_a_rule_is_refused(mode):
    src = f"import numpy as np\n\ndef f(a):\n    return np.sum(np.pad(a, 1, mode='{mode}'))\n"
    check_rejects(src, f"the option mode='{mode}' of 'numpy.pad' is not supported: the "
                  "derivative of np.pad is written for the modes 'constant', 'edge'")


@pytest.mark.parametrize("mode", MODES)
def test_padding_by_a_mode_known_only_when_it_runs_is_refused_then(mode):
    src = "import numpy as np\n\ndef f(a, how):\n    return np.sum(np.pad(a, 1, mode=how))\n"
    gradient = derivative(src, 0, mode)
    assert gradient(np.ones(3), "edge").shape == (3,)
    with pytest.raises(ValueError, match="not 'maximum'"):
        gradient(np.ones(3), "maximum")


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors are deprecated")
def test_a_cross_product_of_2_vectors_is_refused_when_its_gradient_runs():
    src = "import numpy as np\n\ndef f(a, b):\n    return np.sum(np.cross(a, b))\n"
    # ours where NumPy only warns of 2-vectors; NumPy's own where it refuses them (2.5 on)
    with pytest.raises(ValueError, match="written for 3-vectors|3-dimensional vectors"):
        derivative(src, 0)(np.ones(2), np.ones(3))
    check_rejects(src.replace("(a, b)", "(a, b, axisa=0)"), "the option 'axisa' of 'numpy.cross'")


def test_shape_and_size_carry_no_derivative():
    src = """
import numpy as np

def f(x):
    n = x.shape[0]
    scale = 1.0 / (x.size + len(x) + np.ndim(x))
    ones = np.ones_like(x) + np.zeros(n) + np.arange(n) * 0.0 + np.linspace(0.0, 1.0, n)
    return scale * np.sum(ones * x ** 2) + np.argmax(x)
"""
    check_array_gradient(src, (np.linspace(-1.0, 1.0, 5),))


# Array functions without a derivative: shapes, constructors, indices, tests. Each is used in a
# function of a so that its own derivative, zero, is checked in both modes.
STEPS = [
    "np.shape(a)[0]", "np.size(a)", "np.ndim(a)", "a.dtype == np.float64", "np.zeros(3)",
    "np.ones(3)", "np.empty(0).size", "np.full(3, 2.0)", "np.zeros_like(a)", "np.ones_like(a)",
    "np.empty_like(a).size", "np.full_like(a, 2.0)", "np.arange(3)", "np.linspace(0.0, 1.0, 3)",
    "np.eye(3)", "np.identity(3)", "np.argmax(a)", "np.argmin(a)", "np.argsort(a)",
    "np.nonzero(a > 1.0)[0]", "np.count_nonzero(a > 1.0)", "np.all(a > 1.0)",
    "np.any(a > 1.0)", "np.isclose(a, 1.0)", "np.allclose(a, 1.0)", "np.equal(a, 1.0)",
    "np.less(a, 1.0)", "np.greater(a, 1.0)", "np.less_equal(a, 1.0)",
    "np.greater_equal(a, 1.0)",
]


@pytest.mark.parametrize("step", STEPS)
def test_an_array_function_without_derivative_contributes_zero(step):
    src = (f"import numpy as np\n\n\ndef f(a):\n"
           f"    return np.sum(a ** 2) * (1.0 + 0.1 * np.sum({step}))\n")
    check_array_gradient(src, (np.array([0.5, 1.7, 1.2, 0.8]),))


# Where a norm has no derivative, NumPy's choice among its subgradients, as np.max's: ties
# share evenly, a zero element or a norm of 0 gives 0 (never nan)
NORM_KINKS = [
    ("np.linalg.norm(a, np.inf)", [1.0, -1.0, 0.5], [0.5, -0.5, 0.0]),
    ("np.linalg.norm(a, 1)", [0.0, 2.0], [0.0, 1.0]),
    ("np.linalg.norm(a)", [0.0, 0.0], [0.0, 0.0]),
    ("np.linalg.norm(a, 3)", [0.0, 0.0], [0.0, 0.0]),
    ("np.linalg.norm(a, 0.5)", [0.0, 2.0], [0.0, 1.0]),
    ("np.linalg.norm(a, np.inf)", [[1.0, 2.0], [-2.0, 1.0]], [[0.5, 0.5], [-0.5, 0.5]]),
    ("np.linalg.norm(a, 'nuc')", [[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]),
    ("np.linalg.norm(a, 2)", [[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("expr", "at", "expected"), NORM_KINKS,
                         ids=[f"{e} at {a}" for e, a, _ in NORM_KINKS])
def test_a_norm_at_a_kink_has_numpys_subgradient(expr, at, expected, mode):
    src = f"import numpy as np\n\n\ndef f(a):\n    return {expr}\n"
    got = derivative(src, 0, mode)(np.array(at))
    np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=generated(src, 0, mode))
