"""The GitHub workflows: valid against the GitHub schemas (check-jsonschema's vendored copy,
offline), and the structure we rely on: pr.yml runs helm 3 and 4, release.yml runs on tags
only, checks the tag before it deploys, and passes secrets only through `env:`."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

CHECK_JSONSCHEMA = str(Path(sys.executable).parent / "check-jsonschema")
WORKFLOWS = Path(".github") / "workflows"


def load(root: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((root / WORKFLOWS / name).read_text())
    if True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    return data


def check_schema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True,
                          check=False, timeout=120)


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, str(index)))
    else:
        yield path, node


def secret_leaks(workflow: dict[str, Any]) -> list[str]:
    """Places where `secrets.` is used anywhere but as the value of an `env:` entry."""
    return [".".join(path) for path, value in walk(workflow)
            if isinstance(value, str) and "secrets." in value and (len(path) < 2 or path[-2] != "env")]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = job["steps"]
    return result


def index_of(job_steps: list[dict[str, Any]], needle: str) -> int:
    hits = [i for i, s in enumerate(job_steps) if needle in str(s.get("run", "")) or needle in str(s.get("uses", ""))]
    assert len(hits) == 1, f"{needle!r} in {len(hits)} steps"
    return hits[0]


def test_workflows_and_the_setup_action_match_the_github_schemas(project_root: Path) -> None:
    workflows = sorted((project_root / WORKFLOWS).glob("*.yml"))
    assert [p.name for p in workflows] == ["main.yml", "pr.yml", "release.yml"]
    result = check_schema("vendor.github-workflows", *workflows)
    assert result.returncode == 0, result.stdout + result.stderr
    action = project_root / ".github" / "actions" / "setup" / "action.yml"
    result = check_schema("vendor.github-actions", action)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path, project_root: Path) -> None:
    data = load(project_root, "pr.yml")
    data["jobs"]["lint"]["timeout-minutes"] = "soon"
    del data["jobs"]["lint"]["runs-on"]
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(data))
    result = check_schema("vendor.github-workflows", broken)
    assert result.returncode == 1, result.stdout
    assert "jobs.lint" in result.stdout or "$.jobs.lint" in result.stdout


def test_pr_runs_lint_template_unittest_tests_with_helm_3_and_4_and_a_kind_cluster_test(project_root: Path) -> None:
    pr = load(project_root, "pr.yml")
    assert list(pr["on"]) == ["pull_request"]
    jobs = pr["jobs"]
    assert set(jobs) == {"lint", "template", "tests", "unittest", "kind_test"}
    for name in ("template", "tests", "unittest"):
        assert jobs[name]["strategy"]["matrix"]["helm"] == ["3", "4"]
        run = steps(jobs[name])[-1]["run"]
        assert f"nox -s \"{name}(helm='${{{{ matrix.helm }}}}')\"" in run, run
    assert "nox -s lint" in steps(jobs["lint"])[-1]["run"]
    assert "nox -s kind_test -- --provider kind" in steps(jobs["kind_test"])[-1]["run"]
    for name, job in jobs.items():
        assert isinstance(job.get("timeout-minutes"), int) and 0 < job["timeout-minutes"] <= 60, name
        checkout = steps(job)[0]
        assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0, name
        assert steps(job)[1]["uses"] == "./.github/actions/setup", name
    assert secret_leaks(pr) == []


def test_the_setup_action_bootstraps_with_python_311_and_caches(project_root: Path) -> None:
    action = yaml.safe_load((project_root / ".github" / "actions" / "setup" / "action.yml").read_text())
    action_steps = action["runs"]["steps"]
    python = next(s for s in action_steps if str(s.get("uses", "")).startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    cache = next(s for s in action_steps if str(s.get("uses", "")).startswith("actions/cache@"))
    assert cache["with"]["path"].split() == ["~/.cache/pip", "~/.cache/chartship"]
    assert "chartship/data/*.lock.toml" in cache["with"]["key"]
    assert action_steps[-1]["run"].strip() == "ci/bootstrap"


def test_release_runs_on_version_tags_only(project_root: Path) -> None:
    release = load(project_root, "release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["concurrency"]["group"] == "release-${{ github.ref }}"
    assert release["concurrency"]["cancel-in-progress"] is False
    assert release["permissions"] == {}
    (job,) = release["jobs"].values()
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert isinstance(job["timeout-minutes"], int)


def test_release_checks_the_tag_before_credentials_and_deploy_then_keeps_notes_and_packages(project_root: Path) -> None:
    (job,) = load(project_root, "release.yml")["jobs"].values()
    job_steps = steps(job)
    tag = index_of(job_steps, 'invoke version.check --tag "$GITHUB_REF_NAME"')
    aws = index_of(job_steps, "aws-actions/configure-aws-credentials@")
    deploy = index_of(job_steps, "invoke helm.deploy --latest")
    notes = index_of(job_steps, "invoke helm.notes")
    upload = index_of(job_steps, "actions/upload-artifact@")
    assert tag < aws < deploy < notes < upload
    assert job_steps[aws]["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert job_steps[upload]["with"]["path"].split() == ["dist/RELEASE_NOTES.md", "dist/charts/*"]
    env = job_steps[deploy]["env"]
    assert env["CHARTSHIP_REGISTRY_PASSWORD"] == "${{ secrets.CHARTSHIP_REGISTRY_PASSWORD }}"
    assert "::add-mask::" in job_steps[deploy]["run"]  # the derived ECR token is masked before use
    cleanup = [s for s in job_steps if s.get("if") == "failure()"]
    assert len(cleanup) == 1 and ".config/helm/registry" in cleanup[0]["run"]


def test_release_passes_secrets_only_through_env(project_root: Path) -> None:
    release = load(project_root, "release.yml")
    assert secret_leaks(release) == []
    used = [value for path, value in walk(release) if isinstance(value, str) and "secrets." in value]
    assert used, "release.yml uses no secret at all"
    for path, value in walk(release):
        if path and path[-1] == "run":
            assert "${{" not in value or "secrets." not in value, path


def test_the_secret_check_flags_a_secret_on_a_command_line(project_root: Path) -> None:
    release = copy.deepcopy(load(project_root, "release.yml"))
    (job,) = release["jobs"].values()
    deploy = steps(job)[index_of(steps(job), "invoke helm.deploy --latest")]
    deploy["run"] += '\necho "${{ secrets.CHARTSHIP_REGISTRY_PASSWORD }}" | helm registry login x --password-stdin'
    assert secret_leaks(release) == [f"jobs.{next(iter(release['jobs']))}.steps.{steps(job).index(deploy)}.run"]


@pytest.mark.parametrize("name", ["main.yml", "pr.yml", "release.yml"])
def test_workflows_pass_the_repository_yamllint_config(project_root: Path, name: str) -> None:
    result = subprocess.run([sys.executable, "-m", "yamllint", "-f", "parsable", "-c", str(project_root / ".yamllint.yaml"),
                             str(project_root / WORKFLOWS / name)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "[error]" not in result.stdout, result.stdout


PUBLISHING = ("helm.push", "helm.deploy", "helm.promote", "helm registry login", "helm push")


def runs(workflow: dict[str, Any]) -> list[str]:
    return [str(value) for path, value in walk(workflow) if path and path[-1] == "run"]


def test_the_pull_request_workflow_publishes_nothing(project_root: Path) -> None:
    pr = load(project_root, "pr.yml")
    assert [cmd for cmd in runs(pr) for word in PUBLISHING if word in cmd] == []
    assert pr["permissions"] == {"contents": "read"}
    assert not [v for _p, v in walk(pr) if isinstance(v, str) and "secrets." in v]


def test_a_push_to_the_default_branch_publishes_the_dev_version(project_root: Path) -> None:
    main = load(project_root, "main.yml")
    assert main["on"] == {"push": {"branches": ["main"]}}
    assert main["permissions"] == {}
    assert main["concurrency"]["cancel-in-progress"] is False
    (job,) = main["jobs"].values()
    assert job["if"] == "github.ref_name == github.event.repository.default_branch"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert isinstance(job["timeout-minutes"], int) and 0 < job["timeout-minutes"] <= 60
    job_steps = steps(job)
    checkout = next(s for s in job_steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    aws = index_of(job_steps, "aws-actions/configure-aws-credentials@")
    deploy = index_of(job_steps, "invoke helm.deploy --dev")
    notes = index_of(job_steps, "invoke helm.notes")
    upload = index_of(job_steps, "actions/upload-artifact@")
    assert aws < deploy < notes < upload
    published = [cmd for cmd in runs(main) for word in PUBLISHING if word in cmd]
    assert published == [job_steps[deploy]["run"]]  # the one publishing step, and it publishes the dev version
    assert "--latest" not in job_steps[deploy]["run"]
    assert "::add-mask::" in job_steps[deploy]["run"]
    assert secret_leaks(main) == []


def test_only_the_tag_workflow_publishes_the_final_version(project_root: Path) -> None:
    finals = {name: [cmd for cmd in runs(load(project_root, name)) if "helm.deploy" in cmd and "--dev" not in cmd]
              for name in ("main.yml", "pr.yml", "release.yml")}
    assert finals["main.yml"] == finals["pr.yml"] == []
    assert len(finals["release.yml"]) == 1
