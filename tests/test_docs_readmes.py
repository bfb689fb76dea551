"""Which READMEs helm.docs manages (marker, opt-in, skip; a hand-written one is never touched), helm-docs'
comment conventions in the values table, and install commands that fit the target -- the generated
helm commands run for real against a plain-HTTP docker-registry."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from chartship.charts import docs
from chartship.config import Target
from chartship.hooks import chart_docs
from tests.helpers.pipeline import commit, helm, invoke, new_repo
from tests.helpers.registry import StartRegistry
from tests.test_docs import table, write_chart

HAND_WRITTEN = "# demo\n\nWritten by a person: 952 lines of upstream documentation would go here.\n"
NOTE = "skipped: hand-written README, set charts.settings.demo.docs: generate to manage it"


def readme_of(chart: Path) -> str:
    return (chart / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- which READMEs are managed


def test_hand_written_readme_is_never_written_and_passes_check(tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "# -- Pods.\nreplicas: 1\n")
    (chart / "README.md").write_text(HAND_WRITTEN, encoding="utf-8")
    assert docs.skip_reason(chart) == NOTE
    assert docs.stale_readmes([chart]) == []
    assert docs.write_readmes([chart]) == []
    assert readme_of(chart) == HAND_WRITTEN


def test_opt_in_generates_over_a_hand_written_readme(tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "# -- Pods.\nreplicas: 1\n")
    (chart / "README.md").write_text(HAND_WRITTEN, encoding="utf-8")
    modes = {"demo": "generate"}
    assert docs.skip_reason(chart, "generate") is None
    assert docs.stale_readmes([chart], modes=modes) == [chart / "README.md"]
    assert docs.write_readmes([chart], modes=modes) == [chart / "README.md"]
    assert readme_of(chart).startswith(docs.GENERATED_MARK + "\n")
    assert docs.stale_readmes([chart]) == []  # from now on the marker says it is chartship's


def test_marker_readme_is_regenerated_and_missing_one_written(tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "# -- Pods.\nreplicas: 1\n")
    (chart / "README.md").write_text(docs.GENERATED_MARK + "\n\n# demo\n\nan older generation\n", encoding="utf-8")
    assert docs.stale_readmes([chart]) == [chart / "README.md"]
    assert docs.write_readmes([chart]) == [chart / "README.md"]
    assert "an older generation" not in readme_of(chart) and table(readme_of(chart))["replicas"][2] == "Pods."
    (chart / "README.md").unlink()
    assert docs.stale_readmes([chart]) == [chart / "README.md"]
    assert docs.write_readmes([chart]) == [chart / "README.md"]


def test_skip_leaves_even_a_generated_readme_alone(tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "replicas: 1\n")
    stale = docs.GENERATED_MARK + "\n\nold\n"
    (chart / "README.md").write_text(stale, encoding="utf-8")
    modes = {"demo": "skip"}
    assert docs.skip_reason(chart, "skip") == "skipped: charts.settings.demo.docs is skip"
    assert docs.stale_readmes([chart], modes=modes) == [] and docs.write_readmes([chart], modes=modes) == []
    assert readme_of(chart) == stale
    (chart / "README.md").unlink()
    assert docs.write_readmes([chart], modes=modes) == [] and not (chart / "README.md").exists()


# --------------------------------------------------------------------------- helm-docs conventions


HELM_DOCS_VALUES = """\
# -- (int) Number of pods; typed by hand.
replicas: "3"
image:
  # -- Image tag.
  # @default -- the chart's appVersion
  tag: ""
  # -- Pull policy,
  # continued on a second line
  #  and a third.
  pullPolicy: IfNotPresent
# -- Internal knobs nobody should set.
# @ignored
internal:
  # -- Hidden too.
  secret: x
# -- @ignored
alsoHidden: 1
# -- (object) Extra labels.
# @default -- `{}` (none)
labels: {a: b}
# -- Annotated section.
# @section -- Networking
port: 80
"""


def test_helm_docs_conventions(tmp_path: Path) -> None:
    rows = table(docs.render_readme(write_chart(tmp_path, HELM_DOCS_VALUES)))
    assert rows["replicas"] == ("int", '`"3"`', "Number of pods; typed by hand.")
    assert rows["image.tag"] == ("string", "`the chart's appVersion`", "Image tag.")
    assert rows["image.pullPolicy"][2] == "Pull policy, continued on a second line and a third."
    assert not any(key.startswith(("internal", "alsoHidden")) for key in rows), rows
    assert rows["labels"] == ("object", "`` `{}` (none) ``", "Extra labels.")
    assert rows["port"] == ("int", "`80`", "Annotated section.")
    assert list(rows) == ["replicas", "image.tag", "image.pullPolicy", "labels", "port"]


# --------------------------------------------------------------------------- install commands per target


def commands(readme: str) -> list[str]:
    return [ln for block in re.findall(r"```console\n(.*?)```", readme, flags=re.DOTALL) for ln in block.splitlines()]


def helm_lines(readme: str) -> list[str]:
    return [ln for ln in commands(readme) if ln.startswith(("helm install", "helm show", "helm template", "helm pull",
                                                            "helm upgrade"))]


@pytest.mark.parametrize(
    ("target", "plain_http", "login"),
    [
        (Target("local", "oci://127.0.0.1:5000/charts", plain_http=True), True, None),
        (Target("ghcr", "oci://registry.example.com/org/charts", auth="basic"), False,
         "helm registry login registry.example.com --username <user>"),
        (Target("ecr", "oci://123456789012.dkr.ecr.us-west-2.amazonaws.com/charts", auth="ecr", region="us-west-2"),
         False, "aws ecr get-login-password --region us-west-2 | helm registry login --username AWS --password-stdin "
                "123456789012.dkr.ecr.us-west-2.amazonaws.com"),
        (Target("public", "oci://charts.example.org/stable"), False, None),
    ],
    ids=["plain-http", "basic", "ecr", "https-anonymous"],
)
def test_install_commands_fit_the_target(tmp_path: Path, target: Target, plain_http: bool, login: str | None) -> None:
    chart = write_chart(tmp_path, "replicas: 1\n")
    (chart / "values-prod.yaml").write_text("replicas: 3\n")
    readme = docs.render_readme(chart, target)
    lines = helm_lines(readme)
    assert len(lines) >= 5, lines
    ref = f"{target.url}/demo --version "
    assert all(ref in ln for ln in lines), lines
    assert all(("--plain-http" in ln) is plain_http for ln in lines), lines
    logins = [ln for ln in commands(readme) if "registry login" in ln]
    assert logins == ([login] if login else [])
    if login:
        assert commands(readme).index(login) < commands(readme).index(lines[0])  # log in before installing
    latest = [ln for ln in commands(readme) if "latest" in ln]
    assert latest == [f"chartship helm.install --chart demo --source oci --target {target.name} --version latest "
                      "--namespace demo"]
    assert not any("--version latest" in ln for ln in lines)  # helm cannot install an alias tag


@pytest.mark.needs_registry
def test_generated_commands_work_against_a_plain_http_registry(tmp_path: Path, helm_bin: Path,
                                                               helm_env: dict[str, str], registries: StartRegistry) -> None:
    reg = registries(None)
    chart = write_chart(tmp_path, "# -- Pods.\nreplicas: 1\n")
    (chart / "templates").mkdir()
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  r: \"{{ .Values.replicas }}\"\n")
    pkg = helm(helm_bin, "package", str(chart), "--destination", str(tmp_path))
    archive = pkg.strip().rsplit(" ", 1)[-1]
    url = f"oci://127.0.0.1:{reg.port}/charts"
    subprocess.run([str(helm_bin), "push", archive, url, "--plain-http"], check=True, capture_output=True, env=helm_env)
    readme = docs.render_readme(chart, Target("local", url, plain_http=True))
    for line in [ln for ln in helm_lines(readme) if ln.startswith(("helm show values", "helm template"))]:
        argv = [str(helm_bin), *line.split()[1:]]
        result = subprocess.run(argv, capture_output=True, text=True, env=helm_env, check=False)
        assert result.returncode == 0, f"{line}: {result.stderr}"
        assert "replicas: 1" in result.stdout or 'r: "1"' in result.stdout, result.stdout


# --------------------------------------------------------------------------- through invoke and the hook


def test_helm_docs_task_and_hook_leave_hand_written_readmes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = new_repo(tmp_path / "repo")
    for name in ("demo", "mine"):
        d = root / "charts" / name
        d.mkdir()
        (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
        (d / "values.yaml").write_text("# -- Pods.\nreplicas: 1\n")
    (root / "charts/demo/README.md").write_text(HAND_WRITTEN)
    (root / "charts/mine/README.md").write_text(HAND_WRITTEN.replace("demo", "mine"))
    commit(root)
    result = invoke(root, "helm.docs")
    assert result.returncode == 0, result.stderr
    assert f"charts/demo/README.md: {NOTE}" in result.stderr
    assert (root / "charts/demo/README.md").read_text() == HAND_WRITTEN
    checked = invoke(root, "helm.docs", "--check")
    assert checked.returncode == 0, checked.stderr
    assert "ok: 0 chart README(s) up to date, 2 not managed" in checked.stdout
    monkeypatch.chdir(root)
    for var in ("CHARTSHIP_CHARTS_DIR", "CHARTSHIP_DEFAULT_TARGET"):
        monkeypatch.delenv(var, raising=False)
    assert chart_docs.main(["charts/demo/values.yaml", "charts/mine/Chart.yaml"]) == 0
    # one chart opts in: the task writes it, the hook then checks it, the other stays hand-written
    (root / "invoke.yaml").write_text("chartship:\n  base_branch: main\n  charts:\n    settings:\n"
                                      "      mine:\n        docs: generate\n")
    assert invoke(root, "helm.docs", "--check").returncode == 1
    assert chart_docs.main(["charts/mine/values.yaml"]) == 1
    assert "charts/mine/README.md is out of date" in capsys.readouterr().err
    written = invoke(root, "helm.docs")
    assert written.returncode == 0 and "wrote charts/mine/README.md" in written.stdout, written.stderr
    assert (root / "charts/mine/README.md").read_text().startswith(docs.GENERATED_MARK)
    assert (root / "charts/demo/README.md").read_text() == HAND_WRITTEN
    assert invoke(root, "helm.docs", "--check").returncode == 0
    assert chart_docs.main(["charts/mine/values.yaml", "charts/demo/values.yaml"]) == 0


def test_docs_setting_is_checked(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "repo", config="  charts:\n    settings:\n      demo:\n        docs: always\n")
    (root / "charts/demo").mkdir()
    (root / "charts/demo/Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (root / "charts/demo/values.yaml").write_text("a: 1\n")
    result = invoke(root, "helm.docs")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert "charts.settings.demo.docs" in line and "'always'" in line and "generate" in line, line
