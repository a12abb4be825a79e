"""Netlify: https://docs.netlify.com/configure-builds/environment-variables/

Netlify's HEAD variable is the head branch's name (not git's HEAD), and
CONTEXT the kind of deploy (`production`, `deploy-preview`, `branch-deploy`).
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts
from ..urls import join_url, slug_from_url

NAME = "netlify"


def detect(env: Env) -> bool:
    return env.equals("NETLIFY", "true")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    is_pr = env.get("PULL_REQUEST") if env.equals("PULL_REQUEST", "true") else None
    facts = ProviderFacts(commit=env.get("COMMIT_REF"), branch=(env.get("HEAD"), env.get("BRANCH")), is_pr=is_pr)
    if is_pr:
        facts.pr = env.get("REVIEW_ID")
    deploy_id = env.get("DEPLOY_ID")
    facts.build = deploy_id
    facts.build_url = join_url("https://app.netlify.com/sites", env.get("SITE_NAME"), "deploys", deploy_id)
    repository_url = env.get("REPOSITORY_URL")
    facts.repository_url = repository_url
    facts.slug = slug_from_url(repository_url)
    facts.environment = env.get("CONTEXT")
    return facts
