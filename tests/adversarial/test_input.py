"""Bounded input: version file, versions, YAML (alias bombs, nesting, size), names and templates, flags,
manifest.json, external programs that hang, a full disk. Each ends with one line and changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.adversarial.conftest import INVOKE, commit, invoke, project, refused, tags, target, tree
from tests.helpers.registry import Registry, make_dist

BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))


def _check(repo: Path, args: tuple[str, ...], *needles: str, env: dict[str, str] | None = None) -> str:
    before = tree(repo)
    line = refused(invoke(repo, *args, env=env), *needles)
    assert tree(repo) == before
    assert not (repo / "dist").exists()
    return line


@pytest.mark.parametrize(("content", "needles"), [
    (b"1.0.0\n" + b"9" * 20_000_000, ("version: is larger than 256 bytes", "invoke version.set")),
    (b"\x00\x01\x02binary\xff\xfe", ("version: holds binary data", "invoke version.set")),
    (b"1.0.0\r\n", ("version: has Windows (CRLF) line endings",)),
    (b"1" * 200 + b".0.0\n", ("more than 30 digits",)),
    (b"1.0.0-rc." + b"7" * 31 + b"\n", ("more than 30 digits",)),
    (b"1." + b"0" * 250 + b".0\n", ("version",)),
])
@pytest.mark.parametrize("task", ["helm.build", "version.check"])
def test_bad_version_file(tmp_path: Path, content: bytes, needles: tuple[str, ...], task: str) -> None:
    repo = project(tmp_path / "repo")
    (repo / "version").write_bytes(content)
    _check(repo, (task,), *needles)


def test_five_thousand_digit_chart_version(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    chart_yaml = repo / "charts/web/Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("version: 0.1.0", "version: " + "1" * 5000 + ".0.0"))
    commit(repo)
    line = _check(repo, ("helm.build",), "charts/web/Chart.yaml", "invoke version.sync")
    assert len(line) < 400, "the 5000 digits are not echoed"


@pytest.mark.parametrize("task", [("helm.build", "--jobs", "abc"), ("helm.lint", "--jobs", "many"),
                                  ("helm.validate", "--jobs", "1.5")])
def test_jobs_that_is_not_a_number(tmp_path: Path, task: tuple[str, ...]) -> None:
    repo = project(tmp_path / "repo")
    _check(repo, task, "--jobs: expected a whole number", repr(task[2]))


@pytest.mark.parametrize(("template", "needle"), [
    ('"{name}-\\0-{TAG}.tgz"', "must be a file name ending in .tgz"),
    ('"{name}\\n-{TAG}.tgz"', "must be a file name ending in .tgz"),
    ('"../{name}-{TAG}.tgz"', "must be a file name ending in .tgz"),
    ('"{name} {TAG}.tgz"', "must be a file name ending in .tgz"),
])
def test_package_name_with_control_characters_or_paths(tmp_path: Path, template: str, needle: str) -> None:
    repo = project(tmp_path / "repo", config=f"  package_name: {template}\n")
    _check(repo, ("helm.build",), "invoke.yaml", "package_name", needle)
    assert not (repo / "dist").exists()


@pytest.mark.parametrize(("name", "needle"), [
    ("w" * 240, "240 characters long"),
    ("Web", "is not valid"),
    ("web_-", "is not valid"),
])
def test_bad_chart_folder_name(tmp_path: Path, name: str, needle: str) -> None:
    repo = project(tmp_path / "repo", charts=(name,))
    _check(repo, ("helm.build",), f"charts/{name[:63]}", needle, "rename the folder")


@pytest.mark.parametrize(("file", "text", "needle"), [
    ("Chart.yaml", None, "expands to more than"),
    ("Chart.yaml", "deep", "nested more than 200 levels"),
    ("values.yaml", BOMB, "expands to more than"),
    ("values.yaml", "deep", "nested more than 200 levels"),
])
@pytest.mark.parametrize("task", [("helm.build",), ("helm.lint", "--all")])
def test_yaml_bombs(tmp_path: Path, file: str, text: str | None, needle: str, task: tuple[str, ...]) -> None:
    repo = project(tmp_path / "repo")
    path = repo / "charts/web" / file
    (repo / "charts/web/values.schema.json").write_text('{"type": "object"}\n')  # so chartship reads the values
    if text == "deep":
        path.write_text(path.read_text() + "x: " + "[" * 3000 + "]" * 3000 + "\n")
    else:
        path.write_text(path.read_text() + (text or BOMB))
    commit(repo)
    _check(repo, task, f"charts/web/{file}", needle, "remove the anchors" if "expands" in needle else "flatten")


def test_yaml_bomb_in_invoke_yaml(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    (repo / "invoke.yaml").write_text("chartship:\n  base_branch: main\nbomb:\n" +
                                      "".join("  " + ln + "\n" for ln in BOMB.splitlines()))
    _check(repo, ("helm.build",), "invoke.yaml", "expands to more than")


def test_yaml_bomb_in_values_stops_the_chart_docs_hook(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    (repo / "charts/web/values.yaml").write_text("greeting: hello\n" + BOMB)
    before = tree(repo)
    result = subprocess.run([str(Path(INVOKE).parent / "python"), "-c",
                             "import sys; from chartship.hooks.chart_docs import main; sys.exit(main(sys.argv[1:]))",
                             "charts/web/values.yaml"], cwd=repo, capture_output=True, text=True, timeout=300)
    refused(result, "charts/web/values.yaml", "expands to more than")
    assert tree(repo) == before


def test_huge_chart_yaml(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    with (repo / "charts/web/Chart.yaml").open("a") as fh:
        fh.write("# " + "x" * (17 * 1024 * 1024) + "\n")
    _check(repo, ("helm.lint", "--all"), "charts/web/Chart.yaml", "MiB chartship reads as YAML")


@pytest.mark.parametrize(("manifest", "needle"), [
    ("[1, 2, 3]", "no 'packages' list"),
    ('{"packages": {"a": 1}}', "no 'packages' list"),
    ('{"packages": [42]}', "packages[0] has no text value for 'file'"),
    ('{"packages": [{"file": "../../etc/passwd", "chart": "web", "version": "0.1.0", "kind": "version", '
     '"sha256": "00"}]}', "is not a plain file name"),
    ("{not json", "unreadable"),
])
def test_manifest_of_the_wrong_shape(tmp_path: Path, registry: Registry, manifest: str, needle: str) -> None:
    repo = project(tmp_path / "repo", config=target(registry))
    (repo / "dist/charts").mkdir(parents=True)
    (repo / "dist/charts/manifest.json").write_text(manifest)
    before = tree(repo)
    refused(invoke(repo, "helm.push"), "manifest.json", needle, "invoke helm.build")
    assert tree(repo) == before
    assert tags(registry) == {}


def test_helm_that_hangs_is_stopped_with_one_line(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    hang = tmp_path / "bin/helm-hangs"
    hang.parent.mkdir()
    hang.write_text("#!/bin/sh\nexec sleep 300\n")
    hang.chmod(0o755)
    _check(repo, ("helm.build",), "helm-hangs version", "did not finish within 2s",
           env={"HELM_BIN": str(hang), "CHARTSHIP_TOOL_TIMEOUT": "2"})


def test_helm_push_that_hangs_is_stopped_and_pushes_nothing(tmp_path: Path, registry: Registry, helm_bin: Path) -> None:
    repo = project(tmp_path / "repo", config=target(registry))
    make_dist(repo, helm_bin, "web")
    wrapper = tmp_path / "bin/helm"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\ncase "$1" in push) exec sleep 300;; esac\nexec {helm_bin} "$@"\n')
    wrapper.chmod(0o755)
    before = tree(repo)
    refused(invoke(repo, "helm.push", env={"HELM_BIN": str(wrapper), "CHARTSHIP_TOOL_TIMEOUT": "3"}),
            "did not finish within 3s")
    assert tree(repo) == before
    assert tags(registry) == {}


def test_full_disk_is_one_line_and_dist_is_untouched(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a small tmpfs")
    probe = subprocess.run(["unshare", "-r", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here ({probe.stderr.decode().strip()}): no small tmpfs to fill")
    repo = project(tmp_path / "repo")
    (repo / "charts/web/data.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    commit(repo)
    small = tmp_path / "small"
    small.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHARTSHIP_")}
    before = tree(repo)
    result = subprocess.run(["unshare", "-r", "-m", "sh", "-c",
                             f'mount -t tmpfs -o size=1m tmpfs "{small}" && TMPDIR="{small}" exec "{INVOKE}" helm.build'],
                            cwd=repo, capture_output=True, text=True, env=clean, timeout=600)
    line = refused(result, "No space left on device", "free some disk space")
    assert str(small) in line
    assert tree(repo) == before
    assert not (repo / "dist").exists()
    assert json.dumps(line)  # one printable line
