"""Batched helm: one `helm lint` for many charts sharing a values set, one `helm package` for many charts.
The batched run and the one-process-per-chart run give the same findings (same words, same order), the
same outcomes and byte-identical packages on every test chart, with fewer helm processes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from chartship import config as cfgmod
from chartship.build import build as buildmod
from chartship.build import lint as lintmod
from chartship.build import lintbatch, package
from chartship.charts import chart as chartmod
from chartship.charts import values
from chartship.tools.helm import Helm
from chartship.tools.helmtext import lint_section_clean, lint_sections
from tests.helpers.hooks import recording_helm
from tests.helpers.pipeline import commit, new_repo, scaffold, umbrella


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, helm_bin: Path) -> Path:
    """Good scaffolds, one with a template error, one whose prod values break its schema, one with a lint
    warning (fails --strict), one with a broken values-dev.yaml that no other chart shares, and an umbrella."""
    root = new_repo(tmp_path_factory.mktemp("batch") / "repo",
                    config="  environments:\n    dev: [values-dev.yaml]\n    prod: [values-prod.yaml]\n")
    for name in ("web", "api", "worker", "tmplerr", "schemabad", "warns", "devbroken"):
        scaffold(root, helm_bin, name)
    (root / "charts/tmplerr/templates/broken.yaml").write_text("kind: ConfigMap\nname: {{ .Values.nope.deeper }\n")
    (root / "charts/schemabad/values-prod.yaml").write_text("replicaCount: 0\n")  # identical for no other chart
    (root / "charts/warns/values-prod.yaml").write_text("replicaCount: 3\n")
    meta = root / "charts/warns/Chart.yaml"
    meta.write_text(meta.read_text().replace("apiVersion: v2\n", "apiVersion: v2\nicon: not a url\n"))
    (root / "charts/devbroken/values-dev.yaml").write_text("replicaCount: [\n")
    umbrella(root, "suite", ["web", "api"])
    commit(root, "init")
    return root


def load(root: Path, helm: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[cfgmod.Config, list[chartmod.Chart]]:
    monkeypatch.setenv("HELM_BIN", str(helm))  # cfg.helm is located from the process environment
    monkeypatch.setenv("CHARTSHIP_HELM_BATCH", "0")  # the helm CLI's batches (the helper's: test_helmbatch.py)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTSHIP_")}
    cfg = cfgmod.load(root, environ=env)
    return cfg, chartmod.discover(cfg)


@pytest.mark.parametrize("jobs", [1, 2])
def test_batched_lint_reports_exactly_what_linting_chart_by_chart_reports(
        repo: Path, helm_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    fake, calls = recording_helm(tmp_path, helm_bin)
    monkeypatch.setenv("HELM_CALLS", str(calls))
    monkeypatch.setenv("REAL_HELM", str(helm_bin))
    cfg, charts = load(repo, fake, monkeypatch)
    names = [c.name for c in charts]
    batched = lintmod.run(cfg, charts, names, jobs)
    batched_calls = [ln for ln in calls.read_text().splitlines() if ln.startswith("lint ")]
    calls.unlink()
    monkeypatch.setattr(lintbatch, "MIN_BATCH", 10**6)  # no batch: one helm process per chart and values set
    single = lintmod.run(cfg, charts, names, jobs)
    single_calls = [ln for ln in calls.read_text().splitlines() if ln.startswith("lint ")]

    assert batched.as_dict() == single.as_dict()
    assert not batched.ok
    failed = {n for n, checks in batched.charts.items() if checks["helm-lint"].status == "failed"}
    assert failed == {"tmplerr", "schemabad", "warns", "devbroken"}
    assert any("schemabad [prod (values-prod.yaml)]" in m for m in batched.charts["schemabad"]["helm-lint"].messages)
    assert any("icon" in m for m in batched.charts["warns"]["helm-lint"].messages)
    sets = sum(len(values.values_sets(cfg, c.path)) for c in charts)
    assert len(single_calls) == sets
    # three batches (the defaults of all 8 charts; dev and prod of the charts whose file is the shared one),
    # then alone: what a batch did not pass (tmplerr x3, warns x3) and the sets nobody shares (schemabad's
    # prod, devbroken's dev): 3 + 6 + 2 processes instead of 22
    multi = [ln for ln in batched_calls if ln.count("/charts/") >= 3]
    assert len(multi) == 3, batched_calls
    assert len(batched_calls) == 11, batched_calls


def test_lint_sections_split_helms_report_per_chart(tmp_path: Path, helm_bin: Path) -> None:
    root = new_repo(tmp_path / "r")
    for name in ("a", "b", "c"):
        scaffold(root, helm_bin, name)
    (root / "charts/b/templates/broken.yaml").write_text("kind: ConfigMap\nname: {{ .Values.nope }\n")
    helm = Helm.locate(root, {"HELM_BIN": str(helm_bin)})
    dirs = [root / "charts" / n for n in ("a", "b", "c")]
    missing = root / "charts" / "not-linted"
    sections = helm.lint_batch(dirs, ())
    assert set(sections) == set(dirs)
    assert [lint_section_clean(sections[d]) for d in dirs] == [True, False, True]
    assert any("[ERROR]" in ln and "broken.yaml" in ln for ln in sections[dirs[1]] or [])
    assert not any("chart(s) linted" in ln for s in sections.values() for ln in s or [])
    clean = helm.lint_batch([dirs[0], dirs[2]], ())  # a clean batch ends with a bare count, no "Error: "
    assert [lint_section_clean(clean[d]) for d in (dirs[0], dirs[2])] == [True, True]
    assert not any("chart(s) linted" in ln for s in clean.values() for ln in s or [])
    assert lint_sections("==> Linting x\n[INFO] fine\n", [missing]) == {missing: None}
    assert not lint_section_clean(None)


def test_byte_identical_packages_batched_or_one_by_one(repo: Path, helm_bin: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "repo"
    shutil.copytree(repo, work, symlinks=True)
    for bad in ("tmplerr",):
        shutil.rmtree(work / "charts" / bad)
    commit(work, "only packageable charts")
    cfg, charts = load(work, helm_bin, monkeypatch)
    names = [c.name for c in charts]
    first = buildmod.build(cfg, charts, names, 2, run_lint=False, dest=tmp_path / "batched")
    monkeypatch.setattr(package, "BATCH_MIN", 10**6)
    monkeypatch.setattr(buildmod.cache, "reusable", lambda *_a, **_k: None)
    second = buildmod.build(cfg, charts, names, 2, run_lint=False, dest=tmp_path / "single")
    assert [(e.file, e.sha256) for e in first.entries] == [(e.file, e.sha256) for e in second.entries]
    assert len(first.entries) == len(names)
    for e in first.entries:
        assert (tmp_path / "batched" / e.file).read_bytes() == (tmp_path / "single" / e.file).read_bytes()


def test_a_chart_helm_cannot_package_fails_the_batch_with_its_own_error(
        repo: Path, helm_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, charts = load(repo, helm_bin, monkeypatch)
    good = [c for c in charts if c.name in ("web", "worker", "api", "warns")]
    broken = tmp_path / "broken"
    shutil.copytree(repo / "charts" / "web", broken)
    (broken / "Chart.yaml").write_text("apiVersion: v2\nname: broken\n")  # no version: helm refuses to package
    items = [(c.name, c.path, c.rel) for c in good] + [("broken", broken, "charts/broken")]
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(Exception, match=r"charts/broken: helm package failed") as err:
        package.helm_archives(cfg.helm, items, work, 1)
    assert "\n" not in str(err.value)
    out = tmp_path / "ok"
    out.mkdir()
    archives = package.helm_archives(cfg.helm, [(c.name, c.path, c.rel) for c in good], out, 1)
    assert sorted(p.name for p in archives.values()) == sorted(f"{c.name}-0.1.0.tgz" for c in good)
