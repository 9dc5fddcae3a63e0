"""Calls to the user's own functions: each callee gets its own derivative, called from the caller's.

In forward mode ``y = helper(a, b)`` with ``a`` active becomes ``y, d_y = helper_pr(a, b, d_a)``;
in reverse mode the primal call stays and the adjoint sweep adds ``d_a += helper_pr(a, b, d_y)``.
A callee's derivative recomputes what it needs, so the caller saves only the call's arguments.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Protocol

import gast

from ad_transpile import errors
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import assign, is_constant, make_constant, name
from ad_transpile.registry import Registry


class Program(Protocol):
    def derivative_of(self, callee: ParsedFunction, wrt: tuple[str, ...], caller: ParsedFunction,
                      where: gast.AST) -> str: ...


@dataclass
class CallSite:
    """``targets = callee(args)`` with every parameter of the callee given, in order."""

    targets: list[str]
    callee: ParsedFunction
    params: list[str]
    args: list[gast.expr]


def assigned_names(stmt: gast.Assign) -> list[str]:
    """The names an assignment binds (none for ``v[i] = e``, nor for a statement that is not
    an assignment, like ``v.append(e)``)."""
    if not isinstance(stmt, gast.Assign):
        return []
    target = stmt.targets[0]
    elts = target.elts if isinstance(target, gast.Tuple) else [target]
    return [t.id for t in elts if isinstance(t, gast.Name)]


class Calls:
    """Finds the call sites of user functions in one function and writes their derivatives."""

    def __init__(self, parsed: ParsedFunction, registry: Registry, program: Program | None,
                 mode: str) -> None:
        self.parsed, self.registry, self.program, self.mode = parsed, registry, program, mode
        self.callees: dict[str, ParsedFunction | None] = {}

    def callee(self, qualname: str) -> ParsedFunction | None:
        """The source of a user function, unless a rule or ``nondifferentiable`` covers it."""
        if qualname in self.registry.nondifferentiable or self.registry.knows(qualname):
            return None
        if qualname.startswith("ad_transpile.runtime."):  # our own helpers: rules, or none
            return None
        if qualname.rpartition(".")[2] == "_unbroadcast":  # our own helper: linear, see forward
            return None
        if qualname not in self.callees:
            callee = self.parsed.callee(qualname)
            if callee is not None and self.program is not None:
                self.program.registry_of(callee)  # a rule declared next to it applies here
                if self.registry.knows(qualname):
                    callee = None
            self.callees[qualname] = callee
        return self.callees[qualname]

    def site(self, stmt: gast.stmt) -> CallSite | None:
        value = getattr(stmt, "value", None)
        if not isinstance(stmt, gast.Assign) or not isinstance(value, gast.Call):
            return None
        qualname = getattr(value, "qualname", None)
        callee = self.callee(qualname) if qualname else None
        if callee is None:
            return None
        params, args = self.bind(value, callee)
        return CallSite(assigned_names(stmt), callee, params, args)

    def bind(self, call: gast.Call, callee: ParsedFunction) -> tuple[list[str], list[gast.expr]]:
        """Every parameter of ``callee`` with the argument the call gives it (or its default)."""
        spec = callee.tree.args
        if spec.vararg or spec.kwarg:
            raise self.parsed.error(
                errors.Unsupported, call, construct=f"calling '{callee.name}', which takes "
                "*args or **kwargs", why="name every parameter so that it can be differentiated",
            )
        positional = [p.id for p in [*spec.posonlyargs, *spec.args]]
        params = positional + [p.id for p in spec.kwonlyargs]
        if len(call.args) > len(positional):
            raise self.parsed.error(
                errors.Unsupported, call, construct=f"{len(call.args)} positional arguments "
                f"to '{callee.name}'", why=f"it takes at most {len(positional)}",
            )
        given: dict[str, gast.expr] = dict(zip(params, call.args))
        for keyword in call.keywords:
            if keyword.arg in given:
                why = f"'{keyword.arg}' is given twice"
            elif keyword.arg not in params or keyword.arg in [p.id for p in spec.posonlyargs]:
                why = f"{callee.name} takes no keyword '{keyword.arg}'"
            else:
                given[keyword.arg] = keyword.value
                continue
            raise self.parsed.error(
                errors.Unsupported, call, construct=f"this call to '{callee.name}'", why=why)
        defaults = dict(zip([p.id for p in [*spec.posonlyargs, *spec.args]][::-1],
                            spec.defaults[::-1]))
        defaults.update({p.id: d for p, d in zip(spec.kwonlyargs, spec.kw_defaults) if d})
        args = []
        for param in params:
            if param in given:
                args.append(given[param])
            elif param in defaults and _literal(defaults[param]):
                args.append(copy.deepcopy(defaults[param]))
            else:
                why = ("its default is not a number" if param in defaults
                       else "it has no default")
                raise self.parsed.error(
                    errors.Unsupported, call, construct=f"leaving out '{param}'",
                    why=f"{why}; pass it explicitly",
                )
        return params, args

    def active_params(self, site: CallSite, activity) -> tuple[str, ...]:
        return tuple(p for p, a in zip(site.params, site.args) if activity.is_active(a))

    def forward(self, stmt: gast.Assign, site: CallSite, activity, namer,
                tangent_of=None, zero=None) -> list[gast.stmt]:
        """``y, d_y = helper_pr(a, b, d_a)``: value and tangent from the callee's derivative
        (``tangent_of(a)`` writes the tangent passed for ``a``, ``d_a`` unless given;
        ``zero(y)`` the tangent of a result that depends on no active argument)."""
        active = self.active_params(site, activity)
        targets = [t for t in site.targets if t in activity.active]
        if not targets:
            return [stmt]
        if not active:
            zero = zero or (lambda t: make_constant(0.0))
            zeros = [assign(namer.derivative(t), zero(t)) for t in targets]
            return [stmt, *zeros]
        callee = self.program.derivative_of(site.callee, active, self.parsed, stmt)
        tangent_of = tangent_of or (lambda a: name(namer.derivative(a.id)))
        tangents = [tangent_of(a) for p, a in zip(site.params, site.args) if p in active]
        call = gast.Call(func=name(callee), args=[*_copies(site.args), *tangents], keywords=[])
        values = stmt.targets[0]
        derivatives = [name(namer.derivative(t), store=True) for t in site.targets]
        tangent = derivatives[0] if len(derivatives) == 1 else gast.Tuple(
            elts=derivatives, ctx=gast.Store())
        unpack = gast.Tuple(elts=[copy.deepcopy(values), tangent], ctx=gast.Store())
        return [gast.copy_location(gast.Assign(targets=[unpack], value=call,
                                               type_comment=None), stmt)]

    def adjoint(self, stmt: gast.Assign, site: CallSite, activity, namer,
                accumulate) -> list[gast.stmt]:
        """``d_a += helper_pr(a, b, d_y)``: the callee's vector-Jacobian product, accumulated
        by ``accumulate(a, value, stmt)``."""
        active = self.active_params(site, activity)
        if not active or not any(t in activity.active for t in site.targets):
            return []
        callee = self.program.derivative_of(site.callee, active, self.parsed, stmt)
        cotangents = [name(namer.derivative(t)) if t in activity.active else make_constant(0.0)
                      for t in site.targets]
        call = gast.Call(func=name(callee), args=[*_copies(site.args), *cotangents], keywords=[])
        receivers = [a.id for p, a in zip(site.params, site.args) if p in active]
        out: list[gast.stmt] = []
        if len(receivers) == 1:
            out.append(accumulate(receivers[0], call, stmt))
        else:
            parts = [namer.fresh(f"{namer.derivative(r)}_{site.callee.name}")
                     for r in receivers]
            unpack = gast.Tuple(elts=[name(p, store=True) for p in parts], ctx=gast.Store())
            out.append(gast.copy_location(gast.Assign(targets=[unpack], value=call,
                                                      type_comment=None), stmt))
            for receiver, part in zip(receivers, parts):
                out.append(accumulate(receiver, name(part), stmt))
        return out


def _literal(expr: gast.expr) -> bool:
    return is_constant(expr) or (isinstance(expr, gast.Constant) and expr.value is None)


def _copies(args: list[gast.expr]) -> list[gast.expr]:
    return [copy.deepcopy(a) for a in args]
