"""Why each context value is what it is: the value and the variable, event field,
git command or override it came from (the human form of `shipmark context`).
"""
from __future__ import annotations

from typing import Callable, List, Mapping, Optional, Tuple

from .detect import detect_context_with_sources

Row = Tuple[str, object, Optional[str]]  # key, value, source (None for null values)


def explain_context(
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
    warn: Optional[Callable[[str], None]] = None,
) -> List[Row]:
    """One row per context key, in the context's order: (key, value, source)."""
    ctx, sources = detect_context_with_sources(env, cwd, warn)
    return [(key, value, sources.get(key)) for key, value in ctx.as_dict().items()]


def format_explanation(rows: List[Row]) -> str:
    """Aligned text lines: key, value (``-`` for null), and ``<- source`` where known."""
    shown = [(key, _shown(value), source) for key, value, source in rows]
    key_width = max((len(key) for key, _, _ in shown), default=0)
    value_width = max((len(value) for _, value, _ in shown), default=0)
    lines = []
    for key, value, source in shown:
        line = f"{key.ljust(key_width)}  {value.ljust(value_width)}"
        if source:
            line += f"  <- {source}"
        lines.append(line.rstrip())
    return "\n".join(lines)


def _shown(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
