"""Small pieces of wording every message shares: counted nouns and durations.

Kept free of imports so that any module (the HTTP client included) can use it.
"""
from __future__ import annotations


def count(number: int, noun: str, plural: str = "") -> str:
    """ "1 entry", "2 entries", "0 targets": the noun agrees with the number."""
    if number == 1:
        return f"1 {noun}"
    if not plural:
        plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{number} {plural}"


def seconds(value: float) -> str:
    """A duration for people: "2.5s", "30s", "0.04s" (never "2.4888s")."""
    value = float(value)
    if value >= 10:
        return f"{round(value):d}s"
    shown = round(value, 1) if value >= 0.1 else float(f"{value:.1g}")
    return f"{shown:g}s"
