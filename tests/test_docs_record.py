"""The record of current READMEs (chartship.charts.docsrecord) behind the chart-docs hook: a chart passes after
hashing only while every input of its README and the README itself are what was recorded; each way of going
stale is caught through the real hook (`pre-commit run chart-docs` in a temp git repository), and a missing or
corrupt record means the full render, never a pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chartship import config
from chartship.charts import docsrecord
from tests.helpers import run_invoke
from tests.helpers.hooks import clean_env, init_git, write_chart, write_repo

PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")
STALE = "is out of date with its chart; run `invoke helm.docs` and stage it"
HEAVY = ("ruamel", "rich", "invoke", "yaml", "jsonschema", "boto3")


class Repo:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env

    def hook(self, *files: str) -> tuple[int, str]:
        """`pre-commit run chart-docs --files ...`: the hook as a commit runs it."""
        result = subprocess.run([PRE_COMMIT, "run", "chart-docs", "--files", *files], cwd=self.root, env=self.env,
                                capture_output=True, text=True, check=False)
        out = result.stdout + result.stderr
        assert "Traceback" not in out, out
        return result.returncode, out

    def docs(self) -> None:
        done = run_invoke(self.root, "helm.docs", env=self.env)
        assert done.returncode == 0, done.stdout + done.stderr

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text()
        assert old in text, text
        path.write_text(text.replace(old, new, 1))

    @property
    def record(self) -> Path:
        return self.root / ".git" / "chartship" / docsrecord.RECORD

    def imported(self, *files: str) -> tuple[int, set[str]]:
        """The hook's exit code and the modules it imported, run the way its console script runs it."""
        code = "import sys; from chartship.hooks.chart_docs import main; raise SystemExit(main(sys.argv[1:]))"
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *files], cwd=self.root, env=self.env,
                                capture_output=True, text=True, check=False)
        return result.returncode, {ln.split("|")[-1].strip() for ln in result.stderr.splitlines()
                                   if ln.startswith("import time:")}


@pytest.fixture
def repo(tmp_path: Path, project_root: Path) -> Repo:
    root = write_repo(tmp_path / "repo", project_root)
    (root / ".venv").symlink_to(project_root / ".venv")
    (root / ".gitignore").write_text(".venv\n")
    init_git(root)
    r = Repo(root, clean_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PIP_NO_INDEX="1"))
    r.docs()  # writes the record
    assert r.record.is_file()
    return r


BOTH = ("charts/web/Chart.yaml", "charts/worker/Chart.yaml")


def test_current_readmes_pass_by_the_record_without_yaml_or_rendering(repo: Repo) -> None:
    code, imported = repo.imported(*BOTH)
    assert code == 0
    assert "chartship.charts.docsrecord" in imported
    assert {m for m in imported if m.split(".")[0] in HEAVY} == set()
    assert "chartship.charts.docs" not in imported and "chartship.config" not in imported
    assert repo.hook(*BOTH)[0] == 0


def test_a_readme_edited_after_the_record_fails(repo: Repo) -> None:
    repo.edit("charts/web/README.md", "# web\n", "# web (my words)\n")
    code, out = repo.hook(*BOTH)
    assert code == 1 and f"charts/web/README.md {STALE}" in out and "worker/README.md" not in out
    _, imported = repo.imported(*BOTH)
    assert "chartship.charts.docs" in imported  # the full check ran for it
    repo.edit("charts/web/README.md", "# web (my words)\n", "# web\n")  # back to the recorded bytes
    assert repo.hook(*BOTH)[0] == 0


@pytest.mark.parametrize(("rel", "old", "new"), [
    ("charts/web/values.yaml", "replicaCount: 1\n", "replicaCount: 2\n"),
    ("charts/web/Chart.yaml", "The web chart", "The web chart, renamed"),
    ("charts/web/values-dev.yaml", "# Development: one small pod.", "# Development: two pods."),
    ("invoke.yaml", "  base_branch: main\n",
     "  base_branch: main\n  targets:\n    local:\n      url: oci://127.0.0.1:5999/charts\n      plain_http: true\n"),
], ids=["values.yaml", "Chart.yaml", "values-dev.yaml", "invoke.yaml target"])
def test_each_input_of_the_readme_makes_it_stale(repo: Repo, rel: str, old: str, new: str) -> None:
    repo.edit(rel, old, new)
    code, out = repo.hook(*BOTH)
    assert code == 1, out
    assert f"charts/web/README.md {STALE}" in out
    if rel == "invoke.yaml":
        assert f"charts/worker/README.md {STALE}" in out
    repo.docs()
    assert repo.hook(*BOTH)[0] == 0


def test_an_added_chart_without_readme_fails_and_passes_once_generated(repo: Repo) -> None:
    write_chart(repo.root, "api")
    code, out = repo.hook("charts/api/Chart.yaml", *BOTH)
    assert code == 1 and f"charts/api/README.md {STALE}" in out
    repo.docs()
    assert repo.hook("charts/api/Chart.yaml", *BOTH)[0] == 0


def test_hand_written_readme_always_passes_and_docs_settings_count(repo: Repo) -> None:
    (repo.root / "charts/web/README.md").write_text("# web\n\nWritten by a person.\n")
    assert repo.hook(*BOTH)[0] == 0
    assert repo.hook(*BOTH)[0] == 0  # now from the record
    repo.edit("charts/web/README.md", "a person", "a person, then edited")
    assert repo.hook(*BOTH)[0] == 0
    repo.edit("invoke.yaml", "  base_branch: main\n", "  base_branch: main\n  charts:\n    settings:\n      web:\n"
                                                       "        docs: generate\n")
    code, out = repo.hook(*BOTH)
    assert code == 1 and f"charts/web/README.md {STALE}" in out  # generate: chartship owns it now
    repo.edit("invoke.yaml", "docs: generate", "docs: skip")
    assert repo.hook(*BOTH)[0] == 0


def test_skip_setting_then_removed_is_checked_again(repo: Repo) -> None:
    repo.edit("invoke.yaml", "  base_branch: main\n", "  base_branch: main\n  charts:\n    settings:\n      web:\n"
                                                       "        docs: skip\n")
    repo.edit("charts/web/values.yaml", "replicaCount: 1\n", "replicaCount: 3\n")
    assert repo.hook(*BOTH)[0] == 0
    assert repo.hook(*BOTH)[0] == 0  # recorded under this invoke.yaml
    repo.edit("invoke.yaml", "  charts:\n    settings:\n      web:\n        docs: skip\n", "")
    code, out = repo.hook(*BOTH)
    assert code == 1 and f"charts/web/README.md {STALE}" in out


@pytest.mark.parametrize("content", ["{not json", "", json.dumps({"format": 1}), "[]"])
def test_a_corrupt_record_falls_back_to_the_full_check(repo: Repo, content: str) -> None:
    repo.edit("charts/web/values.yaml", "replicaCount: 1\n", "replicaCount: 2\n")
    repo.record.write_text(content)
    code, out = repo.hook(*BOTH)
    assert code == 1 and f"charts/web/README.md {STALE}" in out
    repo.record.write_text(content)
    code, imported = repo.imported("charts/worker/Chart.yaml")
    assert code == 0 and "chartship.charts.docs" in imported  # rendered, since nothing was proven
    code, imported = repo.imported("charts/worker/Chart.yaml")
    assert code == 0 and "chartship.charts.docs" not in imported  # the full check recorded worker again


def test_a_record_under_another_key_or_for_other_bytes_proves_nothing(repo: Repo) -> None:
    data = json.loads(repo.record.read_text())
    repo.edit("charts/web/README.md", "# web\n", "# web!\n")
    data["charts"]["charts/web"] = docsrecord.chart_digest(repo.root / "charts/web")  # the bytes now, other key
    data["key"] = "0" * 64
    repo.record.write_text(json.dumps(data))
    assert repo.hook(*BOTH)[0] == 1


def test_no_git_folder_means_no_record_and_the_full_check(tmp_path: Path, project_root: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from chartship.hooks import chart_docs

    root = write_repo(tmp_path / "plain", project_root)
    monkeypatch.chdir(root)
    assert docsrecord.record_path(root) is None
    assert chart_docs.main(list(BOTH)) == 0
    (root / "charts/web/README.md").write_text((root / "charts/web/README.md").read_text() + "more\n")
    assert chart_docs.main(list(BOTH)) == 1


def test_secrets_are_not_part_of_the_key(tmp_path: Path) -> None:
    (tmp_path / "invoke.yaml").write_text("chartship: {}\n")
    base = docsrecord.key(tmp_path, {})
    assert docsrecord.key(tmp_path, {"CHARTSHIP_REGISTRY_PASSWORD": "s3cret"}) == base
    assert docsrecord.key(tmp_path, {"CHARTSHIP_REGISTRY": "oci://127.0.0.1:5001/x"}) != base
    assert docsrecord.CONFIG_FILE == config.CONFIG_FILE
