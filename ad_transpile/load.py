"""Load: compile generated source text into a live function."""

from __future__ import annotations

import hashlib
import linecache
from typing import Callable


def load(text: str, name: str, label: str) -> Callable:
    """Run the generated module ``text`` and return its function ``name``.

    The text is registered with ``linecache`` under ``label`` so that tracebacks through
    generated code show its lines.
    """
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    filename = f"<ad-transpile {label} {digest}>"  # unique per text: linecache keys must not clash
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    namespace: dict[str, object] = {"__name__": f"ad_transpile.generated.{name}"}
    exec(compile(text, filename, "exec"), namespace)
    return namespace[name]  # type: ignore[return-value]
