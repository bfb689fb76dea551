"""nox sessions. They run in the environment `ci/bootstrap` prepared (.venv), so
they start instantly; run them as `ci/bootstrap nox -s lint tests` or, after set-up,
`.venv/bin/nox -s ...`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
# Sessions use the tools of the environment nox runs in (.venv) and the pinned helm.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(ROOT / ".tools" / "bin"), os.environ["PATH"]])
nox.options.sessions = ["lint", "template", "unittest", "tests"]
nox.options.default_venv_backend = "none"
nox.options.error_on_missing_interpreters = True


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict, version file == charts, yamllint, helm.lint --all, helm.docs --check, workflow schema."""
    session.run("ruff", "check", "chartship", "tests", "bench", "tasks.py", "noxfile.py")
    session.run("mypy", "--strict", "chartship")
    session.run("invoke", "version.check")
    session.run("yamllint", "-c", ".yamllint.yaml", *_repo_yaml())
    session.run("invoke", "helm.lint", "--all")
    session.run("invoke", "helm.docs", "--check")
    session.run("invoke", "docs.reference", "--check")
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    actions = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "actions").glob("*/action.y*ml"))
    # check-jsonschema ships the GitHub workflow and action schemas: no network needed
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-actions", *actions)


def _repo_yaml() -> list[str]:
    """Chart YAML outside templates/ (chartship.tools.yamllint's selection), argocd/, .github/ and ci/."""
    from chartship.tools.yamllint import chart_files

    charts = [p for d in sorted((ROOT / "charts").iterdir()) if (d / "Chart.yaml").is_file() for p in chart_files(d)]
    return [str(p.relative_to(ROOT)) for p in charts] + [d for d in ("argocd", ".github", "ci") if (ROOT / d).is_dir()]


@nox.session
@nox.parametrize("helm", ["3", "4"])
def tests(session: nox.Session, helm: str) -> None:
    """pytest against real helm 3 and helm 4 (HELM_BIN=.tools/bin/helm3 or helm4)."""
    helm_bin = ROOT / ".tools" / "bin" / f"helm{helm}"
    if not helm_bin.exists():
        session.error(f"{helm_bin} is missing: run ci/bootstrap (or invoke tools.install)")
    workers = os.environ.get("PYTEST_WORKERS", "auto")
    session.run("pytest", "-n", workers, "--dist", "loadfile", *session.posargs, env={"HELM_BIN": str(helm_bin)})


@nox.session
@nox.parametrize("helm", ["3", "4"])
def template(session: nox.Session, helm: str) -> None:
    """Render every chart x environment with helm 3 / helm 4: Kubernetes and CRD schemas, security rules (helm.validate)."""
    helm_bin = ROOT / ".tools" / "bin" / f"helm{helm}"
    if not helm_bin.exists():
        session.error(f"{helm_bin} is missing: run ci/bootstrap (or invoke tools.install)")
    session.run("invoke", "helm.validate", *session.posargs, env={"HELM_BIN": str(helm_bin)})


@nox.session
@nox.parametrize("helm", ["3", "4"])
def unittest(session: nox.Session, helm: str) -> None:
    """The charts' helm-unittest suites with helm 3 / helm 4 (the pinned plugin is built once: tools.install --peers)."""
    helm_bin = ROOT / ".tools" / "bin" / f"helm{helm}"
    if not helm_bin.exists():
        session.error(f"{helm_bin} is missing: run ci/bootstrap (or invoke tools.install)")
    session.run("invoke", "tools.install", "--only", f"helm{helm}", "--peers")
    session.run("invoke", "helm.unittest", *session.posargs, env={"HELM_BIN": str(helm_bin)})


@nox.session
def kind_test(session: nox.Session) -> None:
    """Cluster test: `nox -s kind_test -- --provider kind|existing|kwok [--keep] [--chart NAME]`."""
    session.run("invoke", "cluster.test", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks as ratios against baseline commands in one run: `nox -s bench -- --charts 40` (writes bench/results.*)."""
    session.run("python", "bench/run.py", *session.posargs)
