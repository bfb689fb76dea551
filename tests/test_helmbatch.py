"""The helm batch helper against the helm CLI it stands in for (differential, under helm 3 and helm 4).

For every chart of this repository, a ``helm create`` scaffold with environment values and charts written to
fail (strict warnings, bad YAML, a schema failure, a missing required value, a template error, a library chart,
a missing dependency, a missing values file), with each values set: ``helm lint --strict``, ``helm template``
and ``helm package`` through the helper print and return what the CLI prints and returns, and the packages are
byte-identical once chartship repacks them. Then the same through chartship's own entry points: ``helm.lint``,
``helm.validate`` and ``helm.build`` give the same report and the same dist/ with the helper and with
``CHARTSHIP_HELM_BATCH=0``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from chartship.build import lintbatch, package
from chartship.errors import ToolError
from chartship.tools import gobuild, helmbatch
from chartship.tools.helm import Helm, binary_version, parse_version
from chartship.tools.helmtext import lint_messages
from chartship.tools.summary import summarise
from chartship.validate import render
from tests.helpers import ROOT
from tests.helpers.pipeline import commit, copy_repo_charts, invoke, new_repo, scaffold

pytestmark = pytest.mark.needs_helm

DEPRECATED_INGRESS = """\
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: {{ .Release.Name }}-old
spec:
  backend:
    serviceName: web
    servicePort: 80
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-cm
  namespace: {{ .Release.Namespace }}
data:
  replicas: {{ .Values.replicaCount | quote }}
"""
CAPABILITIES = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: caps
data:
  helm: {{ .Capabilities.HelmVersion.Version | quote }}
  commit: {{ .Capabilities.HelmVersion.GitCommit | quote }}
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  monitoring: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}
"""
SCHEMA = '{"type": "object", "properties": {"replicaCount": {"type": "integer"}}, "required": ["replicaCount"]}'


def _chart(root: Path, name: str, templates: dict[str, str], values: str = "replicaCount: 1\n",
           extra: str = "", files: dict[str, str] | None = None) -> Path:
    d = root / name
    (d / "templates").mkdir(parents=True)
    (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"1.0\"\n{extra}")
    (d / "values.yaml").write_text(values)
    for rel, text in templates.items():
        (d / "templates" / rel).write_text(text)
    for rel, text in (files or {}).items():
        (d / rel).write_text(text)
    return d


def _failing(root: Path) -> list[Path]:
    """Charts each of which fails (or warns) in one way."""
    return [
        _chart(root, "warns", {"ingress.yaml": DEPRECATED_INGRESS, "cm.yaml": CONFIGMAP}),
        _chart(root, "bad-yaml", {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n"}),
        _chart(root, "schema", {"cm.yaml": CONFIGMAP}, files={"values.schema.json": SCHEMA,
                                                             "values-dev.yaml": "replicaCount: many\n"}),
        _chart(root, "required", {"cm.yaml": CONFIGMAP.replace(".Values.replicaCount",
                                                               'required "set image.tag" .Values.image.tag')},
               values="replicaCount: 1\nimage: {}\n", files={"values-prod.yaml": "image:\n  tag: \"1.2\"\n"}),
        _chart(root, "tpl-error", {"cm.yaml": CONFIGMAP, "bad.yaml": "{{ .Values.replicaCount | nosuchfunc }}\n"}),
        _chart(root, "fails", {"cm.yaml": '{{ fail "this chart refuses to render" }}\n'}),
        _chart(root, "library", {"_helpers.tpl": '{{- define "library.name" -}}x{{- end -}}\n'},
               extra="type: library\n"),
        _chart(root, "missing-dep", {"cm.yaml": CONFIGMAP},
               extra="dependencies:\n  - name: sub\n    version: 0.1.0\n    repository: file://../sub\n"),
        _chart(root, "deprecated", {"cm.yaml": CONFIGMAP}, extra="deprecated: true\n"),
        _chart(root, "capabilities", {"cm.yaml": CAPABILITIES}),
    ]


@pytest.fixture(scope="session")
def helper(helm_bin: Path) -> helmbatch.Helper:
    """The helper for the helm under test, built once (cached in ~/.cache/chartship: warm CI pays nothing)."""
    version = binary_version(helm_bin).removeprefix("v")
    major = parse_version(version)[0]
    if helmbatch.pinned_version(major) != version:
        pytest.skip(f"helm {version} is not the locked helm{major} {helmbatch.pinned_version(major)}")
    try:
        gobuild.find_go()
    except ToolError as exc:
        pytest.skip(f"no Go, so no helm batch helper: {exc}")
    built = helmbatch.build(major, log=print)
    assert helmbatch.find(version) == helmbatch.Helper(built.path, version, built.directory)
    return built


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory, helm_bin: Path, helm_env: dict[str, str]) -> list[Path]:
    """Every chart of this repository (dependencies built), a scaffold, and the failing charts."""
    root = tmp_path_factory.mktemp("batch-charts")
    repo = new_repo(root / "repo")
    assert copy_repo_charts(repo)
    scaffold(repo, helm_bin, "web")
    found = [repo / "charts" / n for n in ("core-pipeline", "redis", "platform", "web")]
    for d in found:
        if "dependencies:" in (d / "Chart.yaml").read_text():
            subprocess.run([str(helm_bin), "dependency", "build", str(d)], env=helm_env, check=True,
                           capture_output=True, timeout=300)
    return [*found, *_failing(root / "failing")]


def _values_sets(chart: Path) -> list[tuple[Path, ...]]:
    envs = sorted(chart.glob("values-*.yaml"))
    return [(), *((f,) for f in envs), (chart / "values.yaml", *envs), (chart / "values-missing.yaml",)]


def _private(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("HELM_") or k == "KUBECONFIG"}


def _cli(helm_bin: Path, env: dict[str, str], args: list[str]) -> tuple[int, str, str]:
    done = subprocess.run([str(helm_bin), *args], capture_output=True, text=True, env=env, timeout=300, check=False)
    return done.returncode, done.stdout, done.stderr


def _values_args(files: tuple[Path, ...]) -> list[str]:
    return [a for f in files for a in ("--values", str(f))]


def _same(cli: tuple[int, str, str], got: helmbatch.Output, what: str) -> None:
    code, out, err = cli
    assert not got.error, f"{what}: {got.error}"
    assert (got.exit, got.ok) == (code, code == 0), f"{what}: helper exit {got.exit}, CLI {code}\n{err}"
    assert got.stdout == out, f"{what}: stdout differs"
    assert summarise(got.stderr) == summarise(err), f"{what}: {got.stderr!r} != {err!r}"
    assert lint_messages(got.stdout + got.stderr) == lint_messages(out + err), what


def test_lint_gives_the_cli_findings_and_outcomes(helper: helmbatch.Helper, charts: list[Path], helm_bin: Path,
                                                  helm_env: dict[str, str]) -> None:
    cases = [(c, vs) for c in charts for vs in _values_sets(c)]
    jobs = [helmbatch.Job(str(i), "lint", str(c), tuple(map(str, vs)), strict=True) for i, (c, vs) in enumerate(cases)]
    outputs = helmbatch.run(helper, jobs, _private(helm_env))
    assert set(outputs) == {j.id for j in jobs}
    outcomes = set()
    for job, (c, vs) in zip(jobs, cases, strict=True):
        cli = _cli(helm_bin, helm_env, ["lint", str(c), "--strict", *_values_args(vs)])
        _same(cli, outputs[job.id], f"lint {c.name} {[f.name for f in vs]}")
        outcomes.add(cli[0])
    assert outcomes == {0, 1}  # both clean and failing lints were compared


def test_template_renders_the_same_manifests(helper: helmbatch.Helper, charts: list[Path], helm_bin: Path,
                                             helm_env: dict[str, str]) -> None:
    apis = ("monitoring.coreos.com/v1",)
    cases = [(c, vs) for c in charts for vs in _values_sets(c)]
    jobs = [helmbatch.Job(str(i), "template", str(c), tuple(map(str, vs)), release="rel", namespace="validate",
                          api_versions=apis) for i, (c, vs) in enumerate(cases)]
    outputs = helmbatch.run(helper, jobs, _private(helm_env))
    rendered = 0
    for job, (c, vs) in zip(jobs, cases, strict=True):
        cli = _cli(helm_bin, helm_env, ["template", "rel", str(c), "--namespace", "validate", *_values_args(vs),
                                        "--api-versions", apis[0]])
        _same(cli, outputs[job.id], f"template {c.name} {[f.name for f in vs]}")
        rendered += bool(cli[1].strip())
    assert 0 < rendered < len(cases)


def test_package_writes_the_same_archives(helper: helmbatch.Helper, charts: list[Path], helm_bin: Path,
                                          helm_env: dict[str, str], tmp_path: Path) -> None:
    jobs = []
    for c in charts:
        (tmp_path / "helper" / c.name).mkdir(parents=True)
        jobs.append(helmbatch.Job(c.name, "package", str(c), dest=str(tmp_path / "helper" / c.name)))
    outputs = helmbatch.run(helper, jobs, _private(helm_env))
    packaged = 0
    for c in charts:
        cli_dest = tmp_path / "cli" / c.name
        cli_dest.mkdir(parents=True)
        cli = _cli(helm_bin, helm_env, ["package", str(c), "--destination", str(cli_dest)])
        got = outputs[c.name]
        assert (got.exit, summarise(got.stderr)) == (cli[0], summarise(cli[2])), c.name
        assert got.stdout == cli[1].replace(str(cli_dest), str(tmp_path / "helper" / c.name)), c.name
        ours, theirs = sorted((tmp_path / "helper" / c.name).glob("*.tgz")), sorted(cli_dest.glob("*.tgz"))
        assert [p.name for p in ours] == [p.name for p in theirs], c.name
        for a, b in zip(ours, theirs, strict=True):
            package.repack(a, tmp_path / "a.tgz", 1_700_000_000)
            package.repack(b, tmp_path / "b.tgz", 1_700_000_000)
            assert (tmp_path / "a.tgz").read_bytes() == (tmp_path / "b.tgz").read_bytes(), c.name
            packaged += 1
    assert packaged >= 4


def test_a_job_that_cannot_run_fails_alone(helper: helmbatch.Helper, charts: list[Path]) -> None:
    jobs = [helmbatch.Job("a", "nosuchop", str(charts[0])), helmbatch.Job("b", "lint", str(charts[0]), strict=True)]
    outputs = helmbatch.run(helper, jobs)
    assert not outputs["a"].ok and "nosuchop" in outputs["a"].error
    assert outputs["b"].ok and "==> Linting" in outputs["b"].stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, helm_bin: Path) -> Path:
    """A chartship project with this repository's charts, scaffolds and two charts that fail lint and render."""
    repo = new_repo(tmp_path_factory.mktemp("batch-project") / "repo")
    assert copy_repo_charts(repo)
    for name in ("web", "api"):
        scaffold(repo, helm_bin, name)
    for c in _failing(repo / "charts"):
        if c.name not in ("warns", "required", "schema"):
            shutil.rmtree(c)
    (repo / "invoke.yaml").write_text("chartship:\n  base_branch: main\n  environments:\n    dev: [values-dev.yaml]\n"
                                      "    prod: [values-prod.yaml]\n")
    commit(repo, "charts")
    return repo


def _both(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    return invoke(project, *args), invoke(project, *args, env={helmbatch.ENV: "0"})


def test_helm_lint_reports_the_same_with_and_without_the_helper(helper: helmbatch.Helper, project: Path) -> None:
    batch, cli = _both(project, "helm.lint", "--all", "--json")
    assert batch.returncode == cli.returncode == 1, cli.stderr
    assert json.loads(batch.stdout) == json.loads(cli.stdout)
    report = json.loads(batch.stdout)["charts"]
    assert report["schema"]["helm-lint"]["status"] == report["warns"]["helm-lint"]["status"] == "failed"
    assert any("[WARNING]" in m for m in report["warns"]["helm-lint"]["messages"])


def test_helm_validate_reports_the_same_with_and_without_the_helper(helper: helmbatch.Helper, project: Path) -> None:
    batch, cli = _both(project, "helm.validate", "--json")
    assert batch.returncode == cli.returncode, cli.stderr
    assert json.loads(batch.stdout) == json.loads(cli.stdout)
    assert "do not render" in batch.stdout


def test_helm_build_writes_the_same_dist(helper: helmbatch.Helper, project: Path, tmp_path: Path) -> None:
    trees = []
    for env in ({}, {helmbatch.ENV: "0"}):
        shutil.rmtree(project / "dist", ignore_errors=True)
        done = invoke(project, "helm.build", "--no-lint", env=env)
        assert done.returncode == 0, done.stderr
        trees.append({p.relative_to(project).as_posix(): p.read_bytes() for p in sorted((project / "dist").rglob("*"))
                      if p.is_file()})
    assert trees[0] == trees[1]
    assert sum(name.endswith(".tgz") for name in trees[0]) >= 6


def test_the_callers_choose_the_helper_unless_turned_off(helper: helmbatch.Helper, helm_bin: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    helm = Helm.locate(ROOT, {"HELM_BIN": str(helm_bin)})
    assert lintbatch.choose(helm, [], 2)[1] is not lintbatch.lint_chunk
    assert helmbatch.for_helm(helm) == helmbatch.find(helper.helm_version)
    monkeypatch.setenv(helmbatch.ENV, "0")
    assert lintbatch.choose(helm, [], 2)[1] is lintbatch.lint_chunk
    assert render.prefetch(helm, [("rel", ROOT / "charts" / "redis", (), "ns", ())], 2).done == {}


def test_the_helper_is_found_only_for_its_exact_helm_version(helper: helmbatch.Helper) -> None:
    assert helmbatch.find(helper.helm_version) is not None
    major, minor, patch = parse_version(helper.helm_version)
    assert helmbatch.find(f"{major}.{minor}.{patch + 1}") is None
    assert helmbatch.enabled({helmbatch.ENV: "0"}) is False and helmbatch.enabled({}) is True
    assert ROOT.joinpath("chartship", "data", "helmbatch", f"v{major}", "go.sum").is_file()
