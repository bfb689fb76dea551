"""invoke helm.*: dependencies, lint, build (reproducible packages) and dry-run tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import SHARD_HELP, config, edge, shard_names
from chartship.tasks.reports import JUNIT_HELP, publish, rel_of

if TYPE_CHECKING:
    from chartship.charts.chart import Chart
    from chartship.config import Config
    from chartship.version.dev import DevBuild

CHART_HELP = "this chart (repeatable)"
JOBS_HELP = "parallel jobs (default: config jobs / CHARTSHIP_JOBS / number of cores)"
TARGET_HELP = "registry target whose OCI dependencies need a login (default: default_target)"
DEV_HELP = {
    "dev": "package the branch build VERSION-<branch>.<run> (written into the build copy only; the tree is untouched)",
    "branch": "branch for --dev (default: GITHUB_REF_NAME / CI variables, then git)",
    "run": "run number for --dev (default: GITHUB_RUN_NUMBER / CI_PIPELINE_IID)",
}
SELECT_HELP = {
    "chart": CHART_HELP + "; default: charts changed since the base branch",
    "all": "every chart",
    "changed_since": "charts changed since the merge-base with this git ref (default: base_branch)",
}


def _setup(c: Context, jobs: int) -> tuple[Config, list[Chart]]:
    from chartship.charts import chart as chartmod

    cfg = config(c, jobs=jobs or None)
    return cfg, chartmod.discover(cfg)


def _select(cfg: Config, charts: list[Chart], chart: list[str] | None, all_: bool, changed_since: str) -> list[str]:
    """--chart names, --all, or the charts changed since a ref; [] means nothing to do (already said)."""
    from chartship import report
    from chartship.charts import changes
    from chartship.charts import chart as chartmod
    from chartship.errors import ConfigError

    if chart and (all_ or changed_since):
        raise ConfigError("--chart cannot be combined with --all or --changed-since; pick one selection")
    if all_ and changed_since:
        raise ConfigError("--all cannot be combined with --changed-since; pick one selection")
    if chart:
        return [c.name for c in chartmod.select(cfg, charts, chart)]
    if all_:
        return [c.name for c in charts]
    found = changes.changed(cfg, charts, changed_since or None)
    if not found.charts:
        report.note(f"no chart changed since {found.ref} (merge-base {found.base[:7]}); use --all to check every chart")
        return []
    for name in found.charts:
        report.note(f"{name}: {found.reasons[name]}")
    return list(found.charts)


@task(iterable=["chart"], help={"chart": CHART_HELP + "; default: every chart with dependencies",
                                "jobs": JOBS_HELP, "target": TARGET_HELP})
@edge
def deps(c: Context, chart: list[str] | None = None, jobs: int = 0, target: str = "") -> None:
    """Build chart dependencies (Chart.lock respected), file:// subcharts before umbrellas."""
    from chartship import report
    from chartship.build import workspace

    cfg, charts = _setup(c, jobs)
    names = [ch.name for ch in charts if ch.dependencies] if not chart else _select(cfg, charts, chart, False, "")
    built = workspace.deps_in_place(cfg, charts, names, cfg.jobs, target or None)
    for ch in built:
        archives = sorted(p.name for p in (ch.path / "charts").glob("*.tgz"))
        report.out(f"{ch.rel}/charts: {', '.join(archives) or 'no archives'}")
    if not built:
        report.out("no chart has dependencies")


@task(iterable=["chart"], help={**SELECT_HELP, "jobs": JOBS_HELP, "json": "print results as JSON", "target": TARGET_HELP,
                                "junit": JUNIT_HELP, "shard": SHARD_HELP})
@edge
def lint(c: Context, chart: list[str] | None = None, all: bool = False, changed_since: str = "",  # noqa: A002
         jobs: int = 0, json: bool = False, target: str = "", junit: str = "", shard: str = "") -> None:
    """Lint charts in parallel: Chart.yaml, helm lint --strict per environment, yamllint, values schema."""
    from chartship import report
    from chartship.build import lint as lintmod
    from chartship.errors import CheckFailed

    cfg, charts = _setup(c, jobs)
    names = shard_names(charts, _select(cfg, charts, chart, all, changed_since), shard)
    result = lintmod.run(cfg, charts, names, cfg.jobs, target or None) if names else lintmod.Report({})
    if json:
        report.emit_json(result.as_dict())
    else:
        print_lint(result)
    _lint_reports(cfg, charts, result, junit)
    if not result.ok:
        bad = [n for n, checks in result.charts.items() if any(not o.ok for o in checks.values())]
        raise CheckFailed("" if json else f"lint failed for {', '.join(bad)}")


def _lint_reports(cfg: Config, charts: list[Chart], result: object, junit: str) -> None:
    from chartship.charts import values
    from chartship.ci_report import checks

    stacks = {ch.name: [vs.name for vs in values.values_sets(cfg, ch.path)] for ch in charts}
    publish(cfg.root, "helm.lint", checks.lint(cfg.root, result, rel_of(charts), stacks), junit)


def dev_build(cfg: Config, dev: bool, branch: str, run: str) -> DevBuild | None:
    """The branch build --dev asks for (None without --dev; --branch/--run alone are a mistake)."""
    from chartship.errors import ConfigError
    from chartship.version import dev as devmod
    from chartship.version import versionfile

    if not dev:
        if branch or run:
            raise ConfigError("--branch and --run only apply to a branch build: add --dev")
        return None
    if cfg.versioning == "per-chart":
        raise ConfigError("--dev: a branch build is VERSION-<branch>.<run> of the version file, and with "
                          "chartship.versioning: per-chart there is none; build releases of each chart's own version")
    return devmod.resolve(cfg.root, versionfile.read_version(cfg.version_file), branch, run)


def print_lint(result: object) -> None:
    from chartship import report
    from chartship.build import lint as lintmod
    from chartship.outcome import SKIPPED

    assert isinstance(result, lintmod.Report)
    if not result.charts:
        return
    rows = [(name, *(checks[k].status for k in lintmod.CHECKS)) for name, checks in result.charts.items()]
    report.table("helm.lint", ["chart", *lintmod.CHECKS], rows)
    for name, checks in result.charts.items():
        for check, outcome in checks.items():
            if outcome.status != SKIPPED:
                for message in outcome.messages:
                    report.out(f"{name} {check}: {message}")


@task(iterable=["chart"], help={"chart": CHART_HELP + "; default: every chart", "latest": "also write the latest-tag package",
                                "no_lint": "package without linting first", "jobs": JOBS_HELP,
                                "json": "print the packages as JSON", "target": TARGET_HELP,
                                "sign": "sign each package: a helm provenance file <package>.prov beside it (PGP key from "
                                        "signing.key/CHARTSHIP_SIGN_KEY, keyring signing.keyring/CHARTSHIP_SIGN_KEYRING, "
                                        "passphrase CHARTSHIP_SIGN_PASSPHRASE or signing.passphrase_file)",
                                "key": "with --sign: the key name (uid) to sign with", "keyring": "with --sign: secret keyring",
                                **DEV_HELP})
@edge
def build(c: Context, chart: list[str] | None = None, latest: bool = False, no_lint: bool = False, jobs: int = 0,
          json: bool = False, target: str = "", sign: bool = False, key: str = "", keyring: str = "",
          dev: bool = False, branch: str = "", run: str = "") -> None:
    """Lint and package charts reproducibly into dist/charts/ with SHA256SUMS and manifest.json."""
    from dataclasses import asdict

    from chartship import report
    from chartship.build import build as buildmod

    cfg, charts = _setup(c, jobs)
    names = _select(cfg, charts, chart, False, "") if chart else [ch.name for ch in charts]
    from chartship import settings

    signing = settings.signing(cfg.root, key or None, keyring or None) if sign else None
    result = buildmod.build(cfg, charts, names, cfg.jobs, latest=latest, run_lint=not no_lint, target=target or None,
                            signing=signing, dev=dev_build(cfg, dev, branch, run))
    if result.lint is not None and not result.lint.ok:
        if json:
            report.emit_json({"ok": False, "lint": result.lint.as_dict(), "packages": []})
        else:
            print_lint(result.lint)
        raise buildmod.check_failed(result.lint)
    if json:
        report.emit_json({"ok": True, "version": result.version, "dest": str(result.dest), "reused": result.reused,
                          "packages": [asdict(e) for e in result.entries]})
        return
    if result.reused:
        report.out("dist/charts is up to date with the sources: nothing rebuilt")
    title = "each chart at its own version" if result.version == "per-chart" else f"version {result.version}"
    report.table(f"dist/charts ({title})", ["file", "chart", "version", "tag", "sha256"],
                 [(e.file, e.chart, e.version, e.tag, e.sha256) for e in result.entries])
    if sign:
        report.out("signed: a .prov provenance file beside each package (helm verify PACKAGE --keyring PUBRING)")
    report.out(f"wrote {len(result.entries)} package(s), SHA256SUMS and manifest.json to dist/charts "
               "(verify: cd dist/charts && sha256sum -c SHA256SUMS)")


@task(iterable=["chart"], help={**SELECT_HELP, "chart": CHART_HELP + "; default: every chart", "jobs": JOBS_HELP,
                                "json": "print results as JSON", "target": TARGET_HELP, "junit": JUNIT_HELP,
                                "shard": SHARD_HELP})
@edge
def test(c: Context, chart: list[str] | None = None, all: bool = False, changed_since: str = "",  # noqa: A002
         jobs: int = 0, json: bool = False, target: str = "", junit: str = "", shard: str = "") -> None:
    """Dry-run every chart x environment without a cluster: helm template, then helm install --dry-run=client."""
    from chartship import report
    from chartship.errors import CheckFailed
    from chartship.validate import helmtest

    cfg, charts = _setup(c, jobs)
    names = _select(cfg, charts, chart, all, changed_since) if (chart or changed_since) else [ch.name for ch in charts]
    names = shard_names(charts, names, shard)
    cases = helmtest.run(cfg, charts, names, cfg.jobs, target or None) if names else []
    if json:
        report.emit_json({"ok": all_ok(cases), "cases": [x.as_dict() for x in cases]})
    elif cases:
        report.table("helm.test", ["chart", "env", "template", "dry-run", "message"],
                     [(x.chart, x.env, x.template, x.dry_run, x.message) for x in cases])
    from chartship.ci_report import checks

    publish(cfg.root, "helm.test", checks.helm_test(cfg.root, cases, rel_of(charts)), junit)
    if not all_ok(cases):
        bad = sorted({x.chart for x in cases if not x.ok})
        raise CheckFailed("" if json else f"helm.test failed for {', '.join(bad)}")


def all_ok(cases: Sequence[object]) -> bool:
    from chartship.validate import helmtest

    return all(isinstance(x, helmtest.Case) and x.ok for x in cases)
