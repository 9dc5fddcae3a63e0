"""``python -m ad_transpile``: the same as the ``ad-transpile`` command."""

from ad_transpile.cli import main

main()
