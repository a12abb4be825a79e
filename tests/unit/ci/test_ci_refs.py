"""One normalizer for branch-like values; tags, PR numbers and sha shapes ."""
from __future__ import annotations

import pytest

from shipmark.ci.refs import (
    is_full_sha,
    normalize_branch,
    normalize_tag,
    pr_number,
    pr_number_from_ref,
    tag_in_branch_slot,
)

SHA1 = "0123456789abcdef0123456789abcdef01234567"
SHA256 = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "value, expected",
    [
        ("main", "main"),
        ("refs/heads/feature/one", "feature/one"),  # keep inner slashes, never the last segment
        ("refs/remotes/origin/release/1.x", "release/1.x"),
        ("remotes/origin/dev", "dev"),
        ("origin/main", "main"),
        ("origin/origin/x", "origin/x"),  # only one prefix is removed
        ("refs/heads/origin/main", "origin/main"),
        ("feature/origin/x", "feature/origin/x"),
        ("refs/tags/v1", None),  # classified before normalizing
        ("refs/pull/12/merge", None),
        ("refs/pull/12/head", None),
        ("refs/merge-requests/3/head", None),
        ("HEAD", None),
        ("origin/HEAD", None),
        ("(HEAD detached at 1a2b3c4)", None),
        (SHA1, None),  # a sha is never a branch
        (SHA1.upper(), None),
        (SHA256, None),
        ("412/merge", None),  # GitHub's GITHUB_REF_NAME on PRs
        ("<default>", None),  # TeamCity
        ("refs/heads/gh-readonly-queue/main/pr-12-" + SHA1, "main"),  # merge queue: its base branch
        ("gh-readonly-queue/release/v2/pr-7-" + SHA1, "release/v2"),
        ("refs/heads/gh-readonly-queue/main/batch-7", "main"),  # another last part still names the base
        ("gh-readonly-queue/release/v2/queued", "release/v2"),
        ("gh-readonly-queue/main", "main"),
        ("refs/notes/commits", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_branch(value, expected):
    assert normalize_branch(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [("v1", "v1"), ("refs/tags/v1.0", "v1.0"), ("refs/tags/rel/2", "rel/2"), ("refs/tags/", None), ("a b", None), (None, None)],
)
def test_normalize_tag(value, expected):
    assert normalize_tag(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("origin/tags/v1", "v1"),
        ("tags/v1", "v1"),
        ("refs/tags/v1", "v1"),
        ("origin/main", None),
        ("origin/feature/tags/x", None),
        (None, None),
    ],
)
def test_tag_in_branch_slot(value, expected):
    assert tag_in_branch_slot(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("412", "412"),
        ("#412", "412"),
        ("https://github.com/acme/shop/pull/412", "412"),
        ("https://github.com/acme/shop/pull/412/", "412"),
        ("pull/10", "10"),
        ("PR-12", None),
        ("abc", None),
        ("12a", None),
        ("١٢", None),  # non-ASCII digits are not a PR number
        (None, None),
    ],
)
def test_pr_number_is_digits_only(value, expected):
    assert pr_number(value) == expected


def test_pr_number_from_ref():
    assert pr_number_from_ref("refs/pull/412/merge") == "412"
    assert pr_number_from_ref("refs/merge-requests/9/head") == "9"
    assert pr_number_from_ref("refs/heads/pull/1/x") is None


@pytest.mark.parametrize(
    "value, expected",
    [(SHA1, True), (SHA256, True), (SHA1.upper(), False), (SHA1[:12], False), ("HEAD", False), (SHA1 + "0", False)],
)
def test_full_sha_shape(value, expected):
    assert is_full_sha(value) is expected
