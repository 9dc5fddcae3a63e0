"""Soundness of the API and the parse path: a right number or a located refusal, never 0.0."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner
from conftest import MODES, imported

import ad_transpile as adt
from ad_transpile import TranspileError
from ad_transpile.cli import main
from ad_transpile.parse import function_in_text
from ad_transpile.pipeline import transpile

# names the source text does not fix: (module source, what the message says)
HIDDEN_FLOW = [
    ("def f(x):\n    return eval('x * x')\n", r":2:12: 'eval' is not supported: it runs code"),
    ("def f(x):\n    exec('y = x')\n    return x\n", r"'exec' is not supported"),
    ("def f(x):\n    c = compile('x', 'f', 'eval')\n    return x\n", r"'compile' is not"),
    ("def f(x):\n    return locals()['x'] * 2.0\n", r":2:12: 'locals' is not supported: it "
     "reads or writes variables by a name computed"),
    ("SCALE = 2.0\ndef f(x):\n    return globals()['SCALE'] * x\n", r"'globals' is not"),
    ("def f(x):\n    globals()['y'] = x\n    return x\n", r"'globals' is not supported"),
    ("def f(x):\n    return vars()['x'] * 2.0\n", r"'vars' is not supported"),
    ("import numpy as np\ndef f(x):\n    name = 'sin'\n    return getattr(np, name)(x)\n",
     r"'getattr' with a computed name is not supported"),
    ("import numpy as np\ndef f(x, name):\n    return float(hasattr(np, name)) * x\n",
     r"'hasattr' with a computed name is not supported"),
    ("def f(x, box):\n    setattr(box, 'v', x)\n    return x\n", r"'setattr' is not supported"),
    ("def f(x, box):\n    delattr(box, 'v')\n    return x\n", r"'delattr' is not supported"),
    ("def f(x):\n    m = __import__('math')\n    return m.sin(x)\n", r"'__import__' is not"),
    ("import importlib\ndef f(x):\n    m = importlib.import_module('math')\n"
     "    return m.sin(x)\n", r"'importlib.import_module' is not supported"),
    ("import sys\ndef f(x):\n    return sys._getframe().f_locals['x']\n",
     r"'.f_locals' is not supported"),
    ("import sys\ndef f(x):\n    frame = sys._getframe()\n    return x\n",
     r"'sys._getframe' is not supported"),
    ("def f(x):\n    sneaky = eval\n    return sneaky('x') * x\n", r":2:14: 'eval' is not"),
    ("import builtins\ndef f(x):\n    return builtins.eval('x * x')\n", r"'eval' is not"),
    ("def f(x):\n    return x.__dict__['v']\n", r"'.__dict__' is not supported"),
    # in a user function the function calls, differentiated or only run in the primal sweep
    ("def g(t):\n    return eval('t * t')\ndef f(x):\n    return g(x) + x\n",
     r":2:12: 'eval' is not supported"),
    ("def g(t):\n    exec('t = 2.0')\n    return t\ndef f(x):\n    c = g(3.0)\n"
     "    return c * x\n", r":2:5: 'exec' is not supported"),
    ("SCALE = 2.0\ndef g(t):\n    global SCALE\n    SCALE = t\n    return 1.0\n"
     "def f(x):\n    c = g(2.0)\n    return c * x\n", r":3:5: 'global' is not"),
    ("def g(t):\n    return locals()['t']\ndef h(t):\n    return g(t)\ndef f(x):\n"
     "    return h(x) * x\n", r":2:12: 'locals' is not supported"),
    # module-level names the function reads must mean one thing
    ("from math import *\ndef f(x):\n    return exp(x)\n",
     r":1:1: 'from math import \*' is not supported: the names it binds"),
    ("import numpy as np\nsum = np.sum\ndef f(x):\n    return sum(x * x)\n",
     r":4:12: reading 'sum' is not supported: the module binds it at line 2"),
    ("SCALE = 2.0\nSCALE += 1.0\ndef f(x):\n    return SCALE * x\n",
     r"reading 'SCALE' is not supported: the module binds it at line 2"),
    ("import math\nimport numpy as math\ndef f(x):\n    return math.sin(x)\n",
     r"reading 'math' is not supported"),
    ("SCALE = 2.0\ndef setup(v):\n    global SCALE\n    SCALE = v\n    return v\n"
     "def f(x):\n    return SCALE * x\n", r"reading 'SCALE' is not supported"),
    ("try:\n    import numba\nexcept ImportError:\n    numba = None\nimport math\n"
     "abs = math.fabs\ndef f(x):\n    return abs(x)\n", r"reading 'abs' is not supported"),
]


def _transpile_text(src: str, mode: str) -> str:
    return transpile(function_in_text(textwrap.dedent(src), "example.py", "f"), 0, mode)[0]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("src, match", HIDDEN_FLOW, ids=[m for _, m in HIDDEN_FLOW])
def test_hidden_flow_is_refused_from_a_file(src, match, mode):
    with pytest.raises(TranspileError, match=match) as caught:
        _transpile_text(src, mode)
    assert str(caught.value).startswith("example.py:"), str(caught.value)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("src, match", HIDDEN_FLOW, ids=[m for _, m in HIDDEN_FLOW])
def test_hidden_flow_is_refused_by_the_api(src, match, mode, tmp_path):
    module = imported(src, tmp_path, "hidden_flow")
    with pytest.raises(TranspileError, match=match):
        adt.grad(module.f, mode=mode)(1.5)


@pytest.mark.parametrize("src", [HIDDEN_FLOW[0][0], HIDDEN_FLOW[3][0]])
def test_hidden_flow_exits_2_from_the_command_line(src, tmp_path):
    (tmp_path / "m.py").write_text(src, encoding="utf-8")
    result = CliRunner().invoke(main, ["grad", f"{tmp_path / 'm.py'}::f"])
    assert result.exit_code == 2, result.output
    assert "is not supported" in result.output


READABLE = [  # what stays allowed: the names are in the source
    "import math\ndef f(x):\n    return math.sin(x) * getattr(math, 'pi')\n",
    "SCALE = 2.0\nSCALE = 3.0\ndef f(x):\n    return SCALE * x\n",
    "import math\nimport math\ndef f(x):\n    return math.sin(x)\n",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("src", READABLE)
def test_names_the_source_fixes_still_work(src, mode, tmp_path):
    module = imported(src, tmp_path, "readable")
    adt.check_grad(module.f, 0.7, mode=mode)
