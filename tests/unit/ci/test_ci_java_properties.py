"""The Java properties reader behind TeamCity's branch."""
from __future__ import annotations

from shipmark.ci.java_properties import parse_properties, read_properties


def test_separators_comments_and_whitespace():
    text = "# comment\n! also a comment\n  a=1\nb: 2\nc 3\nd = 4 \n\ne\n"
    assert parse_properties(text) == {"a": "1", "b": "2", "c": "3", "d": "4 ", "e": ""}


def test_escapes_and_continuations():
    text = (
        "teamcity.build.branch=feature/caf\\u00e9\n"
        "key\\ with\\ spaces=v\n"
        "path=C\\:\\\\agent\\\\work\n"
        "long=one, \\\n    two\n"
        "tab=a\\tb\n"
        "trailing=ends with a backslash\\\\\n"
    )
    assert parse_properties(text) == {
        "teamcity.build.branch": "feature/café",
        "key with spaces": "v",
        "path": "C:\\agent\\work",
        "long": "one, two",
        "tab": "a\tb",
        "trailing": "ends with a backslash\\",
    }


def test_a_later_key_wins_and_windows_line_ends_are_fine():
    assert parse_properties("a=1\r\na=2\r\n") == {"a": "2"}


def test_unreadable_or_missing_files_give_nothing(tmp_path):
    assert read_properties(None) == {}
    assert read_properties(str(tmp_path / "missing.properties")) == {}
    assert read_properties(str(tmp_path)) == {}  # a directory
