"""Google Cloud Build: https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values

Substitutions reach a step's environment only when the build config maps them
(`env: ['BRANCH_NAME=$BRANCH_NAME', ...]`). GCP_PROJECT and GOOGLE_CLOUD_PROJECT
are no sign of Cloud Build: running applications have them too.
"""
from __future__ import annotations

from typing import Callable, Optional

from ..env import Env, sourced
from ..facts import ProviderFacts

NAME = "google_cloud_build"

_ALL_OF = ("BUILD_ID", "PROJECT_ID", "PROJECT_NUMBER", "LOCATION")


def detect(env: Env) -> bool:
    return env.is_set("BUILDER_OUTPUT") or all(env.is_set(name) for name in _ALL_OF)


def _build_url(env: Env) -> Optional[str]:
    build_id, project, location = env.get("BUILD_ID"), env.get("PROJECT_ID"), env.get("LOCATION")
    if not (build_id and project):
        return None
    region = f";region={location}" if location else ""
    url = f"https://console.cloud.google.com/cloud-build/builds{region}/{build_id}?project={project}"
    return sourced(url, "console URL from $LOCATION, $BUILD_ID and $PROJECT_ID")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr = env.get("_PR_NUMBER")
    facts = ProviderFacts(commit=env.get("COMMIT_SHA"), tag=env.get("TAG_NAME"), is_pr=pr)
    if pr:
        facts.branch = (env.get("_HEAD_BRANCH"), env.get("BRANCH_NAME"))  # both the head on PR triggers
        facts.pr = pr
        facts.pr_base_branch = env.get("_BASE_BRANCH")
    else:
        facts.branch = env.get("BRANCH_NAME")
    build_id = env.get("BUILD_ID")
    facts.build = build_id
    facts.build_url = _build_url(env)
    facts.pipeline_id = build_id
    facts.slug = env.get("REPO_FULL_NAME")
    return facts
