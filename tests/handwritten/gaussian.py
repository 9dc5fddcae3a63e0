"""Gaussian log-likelihoods in the mean and the log standard deviation: of numbers, and of
rows of a matrix under a diagonal covariance."""

import numpy as np

from handwritten.case import Case


def gaussian(mu, log_sigma, x):
    z = (x - mu) / np.exp(log_sigma)
    return -np.sum(0.5 * z ** 2 + log_sigma) - 0.5 * np.size(x) * np.log(2.0 * np.pi)


def gaussian_grad(mu, log_sigma, x):
    z = (x - mu) / np.exp(log_sigma)
    return np.sum(z) / np.exp(log_sigma), np.sum(z ** 2 - 1.0)


def gaussian_jvp(mu, log_sigma, x, d_mu, d_log_sigma):
    sigma = np.exp(log_sigma)
    z = (x - mu) / sigma
    value = -np.sum(0.5 * z ** 2 + log_sigma) - 0.5 * np.size(x) * np.log(2.0 * np.pi)
    return value, np.sum(z / sigma * d_mu + (z ** 2 - 1.0) * d_log_sigma)


def diagonal_gaussian(mu, log_sigma, X):
    z = (X - mu) / np.exp(log_sigma)
    return -np.sum(0.5 * z ** 2 + log_sigma) - 0.5 * np.size(X) * np.log(2.0 * np.pi)


def diagonal_gaussian_grad(mu, log_sigma, X):
    z = (X - mu) / np.exp(log_sigma)
    return np.sum(z, axis=0) / np.exp(log_sigma), np.sum(z ** 2 - 1.0, axis=0)


def diagonal_gaussian_jvp(mu, log_sigma, X, d_mu, d_log_sigma):
    sigma = np.exp(log_sigma)
    z = (X - mu) / sigma
    value = -np.sum(0.5 * z ** 2 + log_sigma) - 0.5 * np.size(X) * np.log(2.0 * np.pi)
    return value, np.sum(z / sigma * d_mu + (z ** 2 - 1.0) * d_log_sigma)


CASES = [
    Case(gaussian, ("mu", "log_sigma"), gaussian_grad, gaussian_jvp,
         lambda rng: (float(rng.normal()), float(rng.uniform(-0.5, 0.5)), rng.normal(size=7))),
    Case(diagonal_gaussian, ("mu", "log_sigma"), diagonal_gaussian_grad, diagonal_gaussian_jvp,
         lambda rng: (rng.normal(size=3), rng.uniform(-0.5, 0.5, 3), rng.normal(size=(6, 3)))),
]
