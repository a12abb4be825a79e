"""CI context detection: which CI runs us, and what it is building (docs/ci-context.md).

    from shipmark.ci import detect_context
    ctx = detect_context(env=None, cwd=None, warn=None)  # -> shipmark.models.Context

    from shipmark.ci.explain import explain_context, format_explanation
    rows = explain_context(env=None)  # -> [(key, value, where the value came from)]
"""
from __future__ import annotations

from .detect import detect_context

__all__ = ["detect_context"]
