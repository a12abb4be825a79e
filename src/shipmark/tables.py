"""Plain text tables: list results and `shipmark targets`, fitted to the terminal.

Only commands that print a table import this module (and the list-item columns).
"""
from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from shipmark.models import Result
from shipmark.output import single_line
from shipmark.targets.items import COLUMNS, SHOWN_WHEN_DIFFERENT, SHOWN_WHEN_SET


def render_table(rows: List[Dict[str, Any]], columns: Sequence[str], width: Optional[int] = None) -> str:
    """A plain text table that fits ``width`` (default: the terminal's, see table_width).

    Nothing is cut: when the table is too wide the widest columns are narrowed and their
    cells wrapped onto more lines; every column stays (one of them tells the rows apart).
    """
    header = [c.upper() for c in columns]
    body = [[" ".join(single_line(row.get(c)).split()) for c in columns] for row in rows]
    widths = _fit([max(len(r[i]) for r in [header] + body) for i in range(len(columns))],
                  [len(h) for h in header], table_width() if width is None else width)
    lines = []
    for cells in [header] + body:
        wrapped = [_wrap(text, w) for text, w in zip(cells, widths)]
        for depth in range(max(len(parts) for parts in wrapped)):
            parts = [p[depth] if depth < len(p) else "" for p in wrapped]
            lines.append("  ".join(v.ljust(w) for v, w in zip(parts, widths)).rstrip())
    return "\n".join(lines)


def table_width() -> Optional[int]:
    """The terminal's width ($COLUMNS first); None (no limit) when stdout is not a terminal."""
    import shutil

    if not os.environ.get("COLUMNS") and not sys.stdout.isatty():
        return None  # piped or redirected: one line per row reads and greps best
    return shutil.get_terminal_size((100, 24)).columns


def _fit(widths: List[int], least: List[int], limit: Optional[int]) -> List[int]:
    """Column widths whose sum (with 2-space gaps) fits ``limit``: the widest narrowed first,
    none below its header (or 8), so a very narrow terminal gets an over-wide table rather than a lost column."""
    widths = list(widths)
    if limit is None:
        return widths
    floor = [min(w, max(h, 8)) for w, h in zip(widths, least)]
    while sum(widths) + 2 * (len(widths) - 1) > limit:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floor[i])
        if widths[widest] <= floor[widest]:
            break
        widths[widest] -= 1
    return widths


def _wrap(text: str, width: int) -> List[str]:
    import textwrap

    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


LIST_COLUMNS = ("target", *COLUMNS)  # a list item's columns (shipmark.targets.items), by target


def list_columns(rows: Sequence[Mapping[str, Any]]) -> Tuple[str, ...]:
    """LIST_COLUMNS plus the optional ones these rows need (shipmark.targets.items)."""
    def values(column: str) -> set:
        return {str(row.get(column)) if row.get(column) is not None else None for row in rows}

    extra = [c for c in SHOWN_WHEN_SET if values(c) - {None}]
    extra += [c for c in SHOWN_WHEN_DIFFERENT if len(values(c)) > 1]
    return (*LIST_COLUMNS, *extra)


def list_rows(results: Sequence[Result]) -> List[Dict[str, Any]]:
    rows = []
    for result in results:
        for item in result.items or []:
            row = {"target": result.target}
            row.update({k: v for k, v in item.items() if k != "raw"})
            if isinstance(row.get("commit"), str):
                row["commit"] = row["commit"][:12]
            rows.append(row)
    return rows


# -- CI integrations -----------------------------------------------------------
