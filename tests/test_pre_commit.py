"""The pre-commit hook ``ad-transpile-check``, used the way a project uses it: real git commits.

SLOW: the two tests marked ``slow`` (about 30 s each; deselect them with ``-m "not slow"``) let
pre-commit build a virtual environment and pip-install this tree into it from the package index.
The manifest and the README's configuration are also checked fast, first.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

HOOK = "ad-transpile-check"
SOURCE = """\
import math


def h(x):
    return math.sin(x) ** 2 + 3.0 * x
"""
IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".ruff_cache",
                                 ".pytest_cache", "build", "dist", ".venv", "plots")

needs_pre_commit = pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None,
                                      reason="pre-commit is not installed (pip install -e "
                                             "'.[test]' installs it)")


def readme_config() -> str:
    """The .pre-commit-config.yaml the README's "Pre-commit" section tells a project to write."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Pre-commit\n")[1]
    return re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)


@needs_pre_commit
def test_the_manifest_is_valid_and_passes_no_file_names():
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == HOOK and hook["entry"] == "ad-transpile check"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert re.search(hook["files"], "src/model.py") and not re.search(hook["files"], "notes.md")


@needs_pre_commit
def test_the_readme_configuration_is_valid(tmp_path):
    from pre_commit.clientlib import load_config

    path = tmp_path / ".pre-commit-config.yaml"
    path.write_text(readme_config())
    (repo,) = load_config(str(path))["repos"]
    (hook,) = repo["hooks"]
    assert hook["id"] == HOOK and hook["args"] == ["derivatives/"]


class Project:
    """A git repository of a user's project, with the commands its developer types."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        folder.mkdir()
        self.git("init", "-q")

    def run(self, *command: str | Path) -> subprocess.CompletedProcess:
        return subprocess.run([str(c) for c in command], cwd=self.folder, env=self.env,
                              capture_output=True, text=True, check=False, timeout=600)

    def git(self, *args: str) -> subprocess.CompletedProcess:
        done = self.run("git", *args)
        assert done.returncode == 0 or args[0] == "commit", done.stdout + done.stderr
        return done

    def ad_transpile(self, *args: str) -> subprocess.CompletedProcess:
        done = self.run(sys.executable, "-m", "ad_transpile", *args)
        assert done.returncode == 0, done.stderr
        return done

    def pre_commit(self, *args: str | Path) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "pre_commit", *args)

    def commit(self, message: str) -> tuple[int, str]:
        """``git commit``: its exit code, and what it printed (git sends a hook's output to
        stderr)."""
        self.git("add", "-A")
        done = self.git("commit", "-q", "-m", message)
        return done.returncode, done.stdout + done.stderr

    def commits(self) -> int:
        return int(self.git("rev-list", "--count", "HEAD").stdout)

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.folder / name
        path.write_text(path.read_text().replace(old, new))


STALE = "derivatives/hpr.py: stale: model.py::h"
COMMAND = "  regenerate it: ad-transpile grad model.py::h --wrt x -o derivatives/hpr.py"


@pytest.fixture
def repositories(tmp_path) -> tuple[Project, Project]:
    """The hook repository (this tree as it is now, committed: pre-commit installs a commit of
    it) and a user's project with a source and its derivative, committed without the hook."""
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "dev",
           "GIT_AUTHOR_EMAIL": "dev@example.org", "GIT_COMMITTER_NAME": "dev",
           "GIT_COMMITTER_EMAIL": "dev@example.org"}
    hooks = Project(tmp_path / "ad-transpile", env)
    shutil.copytree(ROOT, hooks.folder, ignore=IGNORED, dirs_exist_ok=True)
    hooks.commit("the tree under test")
    project = Project(tmp_path / "project", env)
    (project.folder / "model.py").write_text(SOURCE)
    project.ad_transpile("grad", "model.py::h", "-o", "derivatives/hpr.py")
    project.commit("a model and its derivative")
    return hooks, project


@pytest.mark.slow
@needs_pre_commit
def test_try_repo_fails_on_a_changed_source_and_prints_the_command(repositories):
    """Each try-repo installs the hook afresh (a store of its own), so it is tried once; the
    test below commits the regenerated file through the installed hook."""
    hooks, project = repositories
    project.edit("model.py", "3.0 * x", "4.0 * x")
    project.git("add", "-A")  # pre-commit checks what is staged
    tried = project.pre_commit("try-repo", hooks.folder, HOOK)  # the hook's own args: [.]
    assert tried.returncode == 1, tried.stdout + tried.stderr
    assert STALE in tried.stdout and COMMAND in tried.stdout
    assert "regenerate every stale file: ad-transpile regen .\n" in tried.stdout


@pytest.mark.slow
@needs_pre_commit
def test_the_readme_configuration_stops_a_commit_that_leaves_a_derivative_stale(repositories):
    hooks, project = repositories
    revision = hooks.git("rev-parse", "HEAD").stdout.strip()
    config = re.sub(r"repo: .*", f"repo: {hooks.folder}", readme_config())
    (project.folder / ".pre-commit-config.yaml").write_text(
        re.sub(r"rev: .*", f"rev: {revision}", config))
    assert project.pre_commit("install").returncode == 0
    code, said = project.commit("the hook")
    assert code == 0 and project.commits() == 2, said

    project.edit("model.py", "math.sin(x) ** 2", "math.sin(x) ** 3")
    code, said = project.commit("a change to the model alone")
    assert code == 1 and project.commits() == 2, said  # the commit did not happen
    assert STALE in said and COMMAND in said
    assert "regenerate every stale file: ad-transpile regen derivatives\n" in said
    printed = shlex.split(COMMAND.split(": ", 1)[1])  # the printed command, as a shell runs it
    assert printed[0] == "ad-transpile"
    project.ad_transpile(*printed[1:])
    code, said = project.commit("the model and its derivative")
    assert code == 0 and project.commits() == 3, said

    (project.folder / "notes.md").write_text("no Python here\n")
    code, said = project.commit("notes")
    assert code == 0 and re.search(r"ad-transpile check\.+\(no files to check\)Skipped", said), said
