"""docs/rules.md, the page of every function with a rule, is current and lists the tested rules."""

from __future__ import annotations

from conftest import ROOT
from test_rules import TABLE

from ad_transpile.rule_table import page


def test_the_committed_page_is_what_the_rules_make():
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == page(), "run: python -m ad_transpile.rule_table > docs/rules.md"


def test_every_rule_of_the_table_is_on_the_page():
    text = page()
    for rule in TABLE:
        function = rule.call.split("(")[0]
        if function.replace(".", "").isidentifier():
            assert f"| `{function}` |" in text, function
    assert "| `+` (`operator.add`) | 2 | elementwise |" in text
    assert "| `np.sum` |" in text and "`np.floor`" in text
    assert "ad_transpile.runtime" not in text and "_unbroadcast" not in text
