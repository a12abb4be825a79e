"""Azure Pipelines: https://learn.microsoft.com/azure/devops/pipelines/build/variables

Pull request variables: SYSTEM_PULLREQUEST_* exist only in PR builds. For
GitHub-hosted repositories the PR *number* (in the PR's URL) differs from the
PR *id*, so the number is preferred.
"""
from __future__ import annotations

from typing import Callable, Optional

from ..env import Env, source_of, sourced
from ..facts import ProviderFacts
from ..refs import is_pr_merge_ref, tag_from_ref
from ..urls import slug_from_url

NAME = "azure_pipelines"


def detect(env: Env) -> bool:
    return env.is_set("TF_BUILD") or env.is_set("BUILD_BUILDURI") or env.is_set("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI")


def _build_url(env: Env) -> Optional[str]:
    # The collection URI and project name, or else the server URI and project id: both
    # address the same page.
    collection = env.first("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI", "SYSTEM_TEAMFOUNDATIONSERVERURI")
    project = env.first("SYSTEM_TEAMPROJECT", "SYSTEM_TEAMPROJECTID")
    build_id = env.get("BUILD_BUILDID")
    if not (collection and project and build_id):
        return None
    from urllib.parse import quote  # only for Azure jobs

    # The collection URI ends with `/`; project names may hold spaces.
    url = f"{collection.rstrip('/')}/{quote(project)}/_build/results?buildId={quote(build_id)}"
    return sourced(url, f"${source_of(collection)}${source_of(project)}/_build/results?buildId=$BUILD_BUILDID")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    numbers = (env.get("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER"), env.get("SYSTEM_PULLREQUEST_PULLREQUESTID"))
    reason = env.get("BUILD_REASON")
    is_pr = (reason if env.equals("BUILD_REASON", "PullRequest") else None) or numbers[0] or numbers[1]
    source_branch = env.get("BUILD_SOURCEBRANCH")
    facts = ProviderFacts(
        commit=env.get("BUILD_SOURCEVERSION"),
        tag=source_branch if tag_from_ref(source_branch) else None,
        is_pr=is_pr,
    )
    if is_pr:
        facts.branch = env.get("SYSTEM_PULLREQUEST_SOURCEBRANCH")  # `refs/heads/x` or `x`, both normalized
        facts.pr = numbers
        facts.pr_base_branch = env.get("SYSTEM_PULLREQUEST_TARGETBRANCH")
        facts.pr_head_sha = env.get("SYSTEM_PULLREQUEST_SOURCECOMMITID")
        facts.pr_merge_ref = source_branch if is_pr_merge_ref(source_branch) else None
    else:
        # Never BUILD_SOURCEBRANCHNAME: it keeps only the last segment (`feature/one` -> `one`).
        facts.branch = source_branch
    facts.build = env.get("BUILD_BUILDNUMBER")  # the run's name in the UI
    facts.build_url = _build_url(env)
    facts.pipeline_id = env.get("BUILD_BUILDID")
    job_id, task_id = env.get("SYSTEM_JOBID"), env.get("SYSTEM_TASKINSTANCEID")
    facts.job = job_id
    if facts.build_url and job_id and task_id:
        facts.job_url = sourced(f"{facts.build_url}&view=logs&j={job_id}&t={task_id}",
                                "build URL + &view=logs&j=$SYSTEM_JOBID&t=$SYSTEM_TASKINSTANCEID")
    repository_url = env.get("BUILD_REPOSITORY_URI")
    facts.repository_url = repository_url
    # BUILD_REPOSITORY_NAME is `owner/repo` for GitHub and only `repo` for Azure Repos.
    facts.slug = (env.get("BUILD_REPOSITORY_NAME"), slug_from_url(repository_url))
    facts.stage = env.first("SYSTEM_STAGEDISPLAYNAME", "SYSTEM_STAGENAME")
    facts.environment = env.get("ENVIRONMENT_NAME")  # deployment jobs only
    facts.actor = env.get("BUILD_REQUESTEDFOR")
    return facts
