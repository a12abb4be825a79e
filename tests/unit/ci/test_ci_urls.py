"""Credentials never leave in URLs; slugs from URLs ."""
from __future__ import annotations

import pytest

from shipmark.ci.urls import (
    clean_repository_url,
    join_url,
    slug_from_url,
    strip_credentials,
)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://gitlab-ci-token:abc123@gitlab.com/g/p.git", "https://gitlab.com/g/p.git"),
        ("http://token@host:8080/x", "http://host:8080/x"),
        ("ssh://git:pw@host:2222/o/r.git", "ssh://host:2222/o/r.git"),
        ("git://user@host/o/r", "git://host/o/r"),
        ("HTTPS://u:p@Host/o/r", "HTTPS://Host/o/r"),
        ("https://u:p@w@host/o/r", "https://host/o/r"),  # '@' inside the password
        ("https://host/o/r?buildId=1#x", "https://host/o/r?buildId=1#x"),  # build URLs keep these
        ("https://host/@scope/pkg", "https://host/@scope/pkg"),  # '@' in the path is not userinfo
        ("git@github.com:acme/shop.git", "git@github.com:acme/shop.git"),  # scp-style stays
        ("file:///srv/repo.git", "file:///srv/repo.git"),
        (None, None),
    ],
)
def test_strip_credentials(url, expected):
    assert strip_credentials(url) == expected


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://u:p@host/o/r.git?private_token=x#frag", "https://host/o/r.git"),
        ("git@github.com:acme/shop.git", "git@github.com:acme/shop.git"),
    ],
)
def test_repository_url_loses_query_and_fragment(url, expected):
    assert clean_repository_url(url) == expected


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://github.com/acme/shop.git", "acme/shop"),
        ("https://github.com/acme/shop/", "acme/shop"),
        ("https://gitlab.com/group/sub/project.git", "group/sub/project"),
        ("https://dev.azure.com/org/Proj/_git/repo", "org/Proj/repo"),
        ("git@github.com:acme/shop.git", "acme/shop"),
        ("ssh://git@host:2222/acme/shop.git", "acme/shop"),
        ("https://host/solo.git", None),
        ("https://host/o/r?x=1", "o/r"),
        ("/srv/git/repo.git", None),
        ("file:///srv/git/a/b.git", None),
        (None, None),
    ],
)
def test_slug_from_url(url, expected):
    assert slug_from_url(url) == expected


def test_join_url_avoids_doubled_slashes_and_needs_every_part():
    assert join_url("https://host/", "/a/", "b") == "https://host/a/b"
    assert join_url("https://host", "a", None) is None
    assert join_url(None, "a") is None
