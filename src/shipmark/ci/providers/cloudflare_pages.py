"""Cloudflare Pages: https://developers.cloudflare.com/pages/configuration/build-configuration/#environment-variables"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts

NAME = "cloudflare_pages"


def detect(env: Env) -> bool:
    return env.equals("CF_PAGES", "1")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    return ProviderFacts(commit=env.get("CF_PAGES_COMMIT_SHA"), branch=env.get("CF_PAGES_BRANCH"))
