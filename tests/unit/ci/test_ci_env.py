"""The variable accessor: what "set" means, placeholders, Windows names."""
from __future__ import annotations

import pytest

from shipmark.ci.env import Env


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("main", "main"),
        ("  main \n", "main"),
        ("", None),
        ("   ", None),
        ("false", None),
        ("FALSE", None),
        (" False ", None),
        ("0", "0"),  # only "false" is special
        ("$(Build.SourceBranch)", None),  # Azure macro left unexpanded
        ("${CI_COMMIT_TAG}", None),
        ("${{ github.head_ref }}", None),
        ("%GIT_BRANCH%", None),
        ("$BRANCH_NAME", None),  # a Cloud Build substitution or shell variable left as is
        ("$_PR_NUMBER", None),
        ("$5", "$5"),  # not a variable name
        ("a$B", "a$B"),
        ("https://host/a%20b/c%2Fd", "https://host/a%20b/c%2Fd"),  # URL escapes are not placeholders
        ("100%", "100%"),
        ("pre-$(x)-post", "pre-$(x)-post"),  # only whole-value placeholders count
    ],
)
def test_get_follows_the_set_rule(raw, expected):
    assert Env({"X": raw}).get("X") == expected
    assert Env({"X": raw}).is_set("X") is (expected is not None)


def test_missing_variable_is_unset():
    assert Env({}).get("X") is None


def test_first_skips_unset_values():
    env = Env({"A": "", "B": "false", "C": "c", "D": "d"})
    assert env.first("A", "B", "C", "D") == "c"
    assert env.first("A", "B") is None


def test_equals_compares_trimmed_values_case_insensitively():
    env = Env({"GITHUB_REF_TYPE": " Tag "})
    assert env.equals("GITHUB_REF_TYPE", "tag")
    assert not env.equals("GITHUB_REF_TYPE", "branch")
    assert not env.equals("MISSING", "tag")


def test_names_are_case_insensitive_on_windows_only():
    mapping = {"GHPRBPULLID": "7"}
    assert Env(mapping, case_insensitive=True).get("ghprbPullId") == "7"
    assert Env(mapping, case_insensitive=False).get("ghprbPullId") is None


def test_default_mapping_is_the_process_environment(monkeypatch):
    monkeypatch.setenv("SHIPMARK_TEST_PROBE", " yes ")
    assert Env().get("SHIPMARK_TEST_PROBE") == "yes"
