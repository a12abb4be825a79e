"""The git fallback against real temp repositories."""
from __future__ import annotations

OTHER_SHA = "feedfacefeedfacefeedfacefeedfacefeedface"


def test_outside_ci_everything_comes_from_git(detect, git_repo):
    git_repo.git("tag", "v1.0.0")
    ctx, notes = detect({}, cwd=git_repo.path)
    assert ctx.ci_name is None and ctx.is_ci is False
    assert ctx.commit == git_repo.head
    assert ctx.source == "git"
    assert ctx.branch == "main"
    assert ctx.tag == "v1.0.0"  # only outside CI
    assert ctx.repository_url == "https://git.example.com/acme/shop.git"  # token removed
    assert ctx.slug == "acme/shop"
    assert notes == []  # git is the expected source outside CI


def test_feature_branch_outside_ci(detect, git_repo):
    git_repo.git("checkout", "-q", "-b", "feature/login")
    git_repo.commit("work")
    ctx, _ = detect({}, cwd=git_repo.path)
    assert (ctx.branch, ctx.tag) == ("feature/login", None)


def test_two_tags_at_head_give_no_tag(detect, git_repo):
    git_repo.git("tag", "v1")
    git_repo.git("tag", "v1-final")
    ctx, _ = detect({}, cwd=git_repo.path)
    assert ctx.tag is None


def test_in_ci_without_provider_tag_never_comes_from_git(detect, git_repo):
    git_repo.git("tag", "v1.0.0")
    ctx, notes = detect({"CI": "true"}, cwd=git_repo.path)
    assert ctx.is_ci is True and ctx.ci_name is None
    assert ctx.tag is None  # one-commit CI clones lack tags: never from git in CI
    assert ctx.commit == git_repo.head and ctx.source == "git"
    assert ctx.branch == "main"
    # Git-derived commit and branch in CI each earn a note.
    assert len(notes) == 2
    assert any(git_repo.head in note for note in notes)


def test_detached_head_with_one_origin_branch(detect, git_repo):
    git_repo.git("update-ref", "refs/remotes/origin/feature/x", "HEAD")
    git_repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/feature/x")
    git_repo.git("checkout", "-q", "--detach")
    ctx, _ = detect({}, cwd=git_repo.path)
    assert ctx.branch == "feature/x"  # origin/HEAD is not a candidate


def test_detached_head_with_two_origin_branches_gives_no_branch(detect, git_repo):
    git_repo.git("update-ref", "refs/remotes/origin/a", "HEAD")
    git_repo.git("update-ref", "refs/remotes/origin/b", "HEAD")
    git_repo.git("checkout", "-q", "--detach")
    ctx, _ = detect({}, cwd=git_repo.path)
    assert ctx.branch is None
    assert ctx.commit == git_repo.head


def test_detached_head_without_origin_refs_gives_no_branch(detect, git_repo):
    git_repo.git("checkout", "-q", "--detach")
    ctx, _ = detect({}, cwd=git_repo.path)
    assert ctx.branch is None


def test_first_remote_when_there_is_no_origin(detect, git_repo):
    git_repo.git("remote", "remove", "origin")
    git_repo.git("remote", "add", "upstream", "git@github.com:acme/upstream-shop.git")
    ctx, _ = detect({}, cwd=git_repo.path)
    assert ctx.repository_url == "git@github.com:acme/upstream-shop.git"
    assert ctx.slug == "acme/upstream-shop"


def test_not_a_repository_leaves_keys_null_silently(detect, empty_dir):
    ctx, notes = detect({}, cwd=empty_dir)
    assert (ctx.commit, ctx.branch, ctx.tag, ctx.slug, ctx.repository_url, ctx.source) == (None,) * 6
    assert notes == []


def test_missing_git_leaves_keys_null_silently(detect, git_repo, tmp_path, monkeypatch):
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    ctx, notes = detect({"JENKINS_URL": "http://j/"}, cwd=git_repo.path)
    assert (ctx.ci_name, ctx.commit, ctx.branch, ctx.source) == ("jenkins", None, None, None)
    assert notes == []


def test_jenkins_takes_commit_and_branch_from_git_with_notes(detect, git_repo):
    ctx, notes = detect({"JENKINS_URL": "http://j/"}, cwd=git_repo.path)
    assert ctx.commit == git_repo.head
    assert ctx.source == "git"
    assert ctx.branch == "main"
    assert len(notes) == 2 and all("git" in note for note in notes)


def test_jenkins_pr_never_takes_branch_from_git(detect, git_repo):
    ctx, _ = detect({"JENKINS_URL": "http://j/", "CHANGE_ID": "3"}, cwd=git_repo.path)
    assert ctx.is_pr is True
    assert ctx.branch is None


def test_jenkins_tag_build_never_takes_branch_from_git(detect, git_repo):
    ctx, _ = detect({"JENKINS_URL": "http://j/", "TAG_NAME": "v3"}, cwd=git_repo.path)
    assert ctx.tag == "v3"
    assert ctx.branch is None


def test_checkout_directory_is_used_when_cwd_is_not_a_repository(detect, git_repo, empty_dir):
    env = {"JENKINS_URL": "http://j/", "WORKSPACE": str(git_repo.path)}
    ctx, _ = detect(env, cwd=empty_dir)
    assert ctx.commit == git_repo.head  # found through the checkout directory
    assert ctx.slug == "acme/shop"


def test_circleci_working_directory_with_a_tilde_is_found(detect, git_repo, empty_dir):
    # CircleCI's CIRCLE_WORKING_DIRECTORY is literally "~/project": relative to HOME.
    home, name = git_repo.path.parent, git_repo.path.name
    env = {"CIRCLECI": "true", "CIRCLE_WORKING_DIRECTORY": f"~/{name}", "HOME": str(home)}
    ctx, _ = detect(env, cwd=empty_dir)
    assert ctx.ci_name == "circleci" and ctx.slug == "acme/shop"  # read from that checkout


def test_short_sha_from_a_provider_is_resolved_by_git(detect, git_repo):
    ctx, _ = detect({"JENKINS_URL": "http://j/", "GIT_COMMIT": git_repo.head[:12]}, cwd=git_repo.path)
    assert ctx.commit == git_repo.head
    assert ctx.source == "env"


def test_unresolvable_provider_sha_falls_through_to_the_next_source(detect, git_repo):
    ctx, _ = detect({"JENKINS_URL": "http://j/", "GIT_COMMIT": "deadbeef"}, cwd=git_repo.path)
    assert ctx.commit == git_repo.head
    assert ctx.source == "git"


def test_option_like_values_never_reach_git(detect, git_repo):
    ctx, _ = detect({"JENKINS_URL": "http://j/", "GIT_COMMIT": "--output=/tmp/x"}, cwd=git_repo.path)
    assert ctx.source == "git"


def test_github_never_takes_commit_branch_or_tag_from_git(detect, git_repo):
    git_repo.git("tag", "v1")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/pull/1/merge", "GITHUB_EVENT_NAME": "pull_request"}
    ctx, _ = detect(env, cwd=git_repo.path)
    assert (ctx.commit, ctx.branch, ctx.tag, ctx.source) == (None, None, None, None)
    # ... but slug and repository_url may come from git for any provider.
    assert ctx.slug == "acme/shop"
    assert ctx.repository_url == "https://git.example.com/acme/shop.git"


class TestCheckoutDiffersFromTrigger:
    """Warn with both shas, keep the provider value."""

    def test_warns_when_head_is_neither_commit_nor_pr_head(self, detect, git_repo):
        env = {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": OTHER_SHA}
        ctx, notes = detect(env, cwd=git_repo.path)
        assert ctx.commit == OTHER_SHA
        assert len(notes) == 1
        assert git_repo.head in notes[0] and OTHER_SHA in notes[0]

    def test_silent_when_head_is_the_commit(self, detect, git_repo):
        env = {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": git_repo.head}
        _, notes = detect(env, cwd=git_repo.path)
        assert notes == []

    def test_silent_when_head_is_the_pr_head(self, detect, git_repo, event_file):
        payload = {"pull_request": {"number": 2, "head": {"sha": git_repo.head, "ref": "f"}}}
        env = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/2/merge",
            "GITHUB_SHA": OTHER_SHA,
            "GITHUB_EVENT_PATH": event_file(payload),
        }
        ctx, notes = detect(env, cwd=git_repo.path)
        assert ctx.pr_head_sha == git_repo.head
        assert notes == []

    def test_silent_when_the_commit_is_overridden(self, detect, git_repo):
        env = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": git_repo.head, "SHIPMARK_COMMIT": OTHER_SHA}
        ctx, notes = detect(env, cwd=git_repo.path)
        assert (ctx.commit, ctx.source) == (OTHER_SHA, "override")
        assert notes == []


def test_git_refusing_the_directory_is_not_an_error(detect, git_repo, tmp_path, monkeypatch):
    # Containers often run git as another user than the checkout's owner; git then
    # refuses with "dubious ownership". A stand-in git that always does so:
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    fake_git = fake_bin / "git"
    fake_git.write_text(
        "#!/bin/sh\n"
        "echo \"fatal: detected dubious ownership in repository at '$2'\" >&2\n"
        "exit 128\n"
    )
    fake_git.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake_bin))
    ctx, notes = detect({"CI": "true"}, cwd=git_repo.path)
    assert (ctx.commit, ctx.branch, ctx.repository_url) == (None, None, None)
    assert notes == []


def test_teamcity_without_a_branch_parameter_asks_git_with_notes(detect, git_repo):
    ctx, notes = detect({"TEAMCITY_VERSION": "2024.03"}, cwd=git_repo.path)
    assert (ctx.ci_name, ctx.commit, ctx.source, ctx.branch) == ("teamcity", git_repo.head, "git", "main")
    assert len(notes) == 2 and "git HEAD" in notes[0] and "branch main comes from git" in notes[1]


def test_buildkite_head_is_resolved_by_git_but_its_branch_never_comes_from_git(detect, git_repo):
    ctx, notes = detect({"BUILDKITE": "true", "BUILDKITE_COMMIT": "HEAD"}, cwd=git_repo.path)
    assert (ctx.commit, ctx.source) == (git_repo.head, "env")  # a provider value, completed by git
    assert ctx.branch is None  # Buildkite always names the branch; git is no source for it
    assert notes == []


def test_bitbucket_abbreviated_destination_sha_is_completed_by_git(detect, git_repo):
    env = {"BITBUCKET_BUILD_NUMBER": "1", "BITBUCKET_COMMIT": git_repo.head, "BITBUCKET_PR_ID": "3",
           "BITBUCKET_BRANCH": "feature", "BITBUCKET_PR_DESTINATION_COMMIT": git_repo.head[:12]}
    ctx, _ = detect(env, cwd=git_repo.path)
    assert ctx.pr_base_sha == git_repo.head


def test_codebuild_outside_webhook_builds_asks_git(detect, git_repo):
    ctx, notes = detect({"CODEBUILD_BUILD_ID": "shop:1"}, cwd=git_repo.path)
    assert (ctx.ci_name, ctx.commit, ctx.branch) == ("aws_codebuild", git_repo.head, "main")
    assert len(notes) == 2
