"""The seed examples come out as a person would write them by hand, in both modes."""

import pytest
from conftest import MODES, check_gradient, generated

SEED = {
    "def f(x):\n    return 3 * x\n": "def fpr(x):\n    return 3.0",
    "import math\ndef g(x):\n    return math.sin(x)\n": "def gpr(x):\n    return math.cos(x)",
}


def body(text: str) -> str:
    """The generated function without header, imports, docstring or comments."""
    lines = [line for line in text.splitlines() if line and not line.lstrip().startswith("#")]
    start = next(i for i, line in enumerate(lines) if line.startswith("def "))
    return "\n".join(line for line in lines[start:] if '"""' not in line)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("src", SEED)
def test_seed_examples_read_as_written_by_hand(src, mode):
    assert body(generated(src, mode=mode)) == SEED[src]


@pytest.mark.parametrize("mode", MODES)
def test_composite_has_one_operation_per_line_and_no_trivial_terms(mode):
    src = "import math\ndef h(x):\n    return math.sin(x) ** 2 + math.exp(-x * x)\n"
    text = body(generated(src, mode=mode))
    for trivial in ("* 1.0", "1.0 *", "+ 0.0", "0.0 +", "** 1\n"):
        assert trivial not in text
    assert "math.cos(x)" in text  # the chain rule's terms, written out once each
    check_gradient(src, (0.7,))
