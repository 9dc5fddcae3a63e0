"""What one hand-written case holds: a source function, the derivatives a person writes for it,
and random arguments in its domain."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    """``grad(*args)`` is the gradient of ``primal`` along ``wrt`` (a tuple for several) and
    ``jvp(*args, *tangents)`` its value and directional derivative, both written by hand;
    ``example(rng)`` draws arguments where the function is smooth."""

    primal: Callable
    wrt: tuple[str, ...]
    grad: Callable
    jvp: Callable
    example: Callable[[np.random.Generator], tuple]

    @property
    def name(self) -> str:
        return self.primal.__name__

    @property
    def path(self) -> str:
        """The source file, relative to the repository root (as golden headers write it)."""
        return Path(inspect.getsourcefile(self.primal)).resolve().relative_to(ROOT).as_posix()

    @property
    def label(self) -> str:
        return f"{Path(self.path).stem}.{self.name}"

    @property
    def params(self) -> list[str]:
        return list(inspect.signature(self.primal).parameters)

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(self.params.index(n) for n in self.wrt)

    @property
    def wrt_spec(self) -> str | tuple[str, ...]:
        """``wrt`` as the CLI and golden_cases.py give it: one name, or a tuple of several."""
        return self.wrt[0] if len(self.wrt) == 1 else self.wrt


@cache
def sample(path: str) -> ModuleType:
    """The module of ``samples/NAME.py``, imported from its file (``samples`` is no package)."""
    name = f"sample_{Path(path).stem}"
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # inspect finds the source of its functions through it
    spec.loader.exec_module(module)
    return module
