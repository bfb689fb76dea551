"""nox sessions. The chart sessions (chart_checks, template) are those `chartship init` writes
(chartship/data/templates/noxfile.py.tmpl); lint adds this repository's code checks, tests its suite.
They run in the environment `ci/bootstrap` prepared (.venv): `ci/bootstrap nox -s lint template tests`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
# the tools of the environment nox runs in, and the pinned helm (`chartship tools.install`)
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(ROOT / ".tools" / "bin"), os.environ["PATH"]])
nox.options.sessions = ["lint", "template", "unittest", "tests"]
nox.options.default_venv_backend = "none"
nox.options.error_on_missing_interpreters = True


def chart_checks(session: nox.Session) -> None:
    """Version file == charts, helm lint --strict on every chart (`-- --shard I/N`: one shard), chart READMEs up to date."""
    session.run("python", "-m", "chartship", "version.check")
    session.run("python", "-m", "chartship", "helm.lint", "--all", *session.posargs)
    session.run("python", "-m", "chartship", "helm.docs", "--check")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict, the chart checks, yamllint, workflow schema."""
    session.run("ruff", "check", "chartship", "tests", "bench", "tasks.py", "noxfile.py")
    session.run("mypy", "--strict", "chartship")
    chart_checks(session)
    session.run("yamllint", "-c", ".yamllint.yaml", *_repo_yaml())
    session.run("python", "-m", "chartship", "docs.reference", "--check")
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    actions = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "actions").glob("*/action.y*ml"))
    # check-jsonschema ships the GitHub workflow and action schemas: no network needed
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-actions", *actions)
    templates = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "chartship" / "data" / "templates" / "workflows").glob("*.tmpl"))
    session.run("check-jsonschema", "--default-filetype", "yaml", "--builtin-schema", "vendor.github-workflows", *templates)


def _repo_yaml() -> list[str]:
    """Chart YAML outside templates/ (the yaml-syntax hook's selection), argocd/, .github/ and the package data."""
    from chartship.tools.yamllint import chart_files

    charts = [p for d in sorted((ROOT / "charts").iterdir()) if (d / "Chart.yaml").is_file() for p in chart_files(d)]
    others = [d for d in ("argocd", ".github", "chartship/data") if (ROOT / d).is_dir()]
    return [str(p.relative_to(ROOT)) for p in charts] + others


# The tests each helm session runs: helm 4 every test, helm 3 only those marked needs_helm (tests/plugins/needs.py)
# and not one_helm (helm used only incidentally: the same test twice), so a test that does not touch helm runs once.
TEST_SELECTION = {"3": ["-m", "needs_helm and not one_helm"], "4": []}


@nox.session
@nox.parametrize("helm", ["3", "4"])
def tests(session: nox.Session, helm: str) -> None:
    """pytest with real helm: helm 4 runs the whole suite, helm 3 the needs_helm tests not marked one_helm."""
    helm_bin = ROOT / ".tools" / "bin" / f"helm{helm}"
    if not helm_bin.exists():
        session.error(f"{helm_bin} is missing: run ci/bootstrap (or chartship tools.install)")
    # twice the cores: many tests wait on helm, git and registry processes (helm's own retry back-off, push
    # timeouts), so 4 workers on 2 cores finish sooner than 2 (docs/ci.md, "What a CI run costs")
    workers = os.environ.get("PYTEST_WORKERS", str(2 * (os.cpu_count() or 1)))
    # success_codes: only 0. pytest's 5 ("no tests collected") fails the session: a selection that runs nothing is an error.
    session.run("pytest", "-n", workers, "--dist", "loadfile", *TEST_SELECTION[helm], *session.posargs,
                env={"HELM_BIN": str(helm_bin)}, success_codes=[0])


@nox.session
@nox.parametrize("helm", ["3", "4"])
def template(session: nox.Session, helm: str) -> None:
    """Render every chart x environment with helm 3 / helm 4: Kubernetes and CRD schemas, security rules (helm.validate)."""
    helm_bin = ROOT / ".tools" / "bin" / f"helm{helm}"
    if not helm_bin.exists():
        session.error(f"{helm_bin} is missing: run `chartship tools.install`")
    session.run("python", "-m", "chartship", "helm.validate", *session.posargs, env={"HELM_BIN": str(helm_bin)})


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
    session.run("python", "-m", "chartship", "cluster.test", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks as ratios against baseline commands in one run: `nox -s bench -- --charts 40` (writes bench/results.*)."""
    session.run("python", "bench/run.py", *session.posargs)
