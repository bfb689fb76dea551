"""The suite's own machinery: the needs_* markers follow the fixtures a test uses (tests/plugins/needs.py),
and `nox -s tests` runs the needs_helm tests but one_helm under helm 3 and every test under helm 4, failing on an
empty selection. Real pytest and real nox in temp folders; no helm is run (the sessions get fake binaries)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.plugins.needs import markers_for, needs

SAMPLE = '''
import pytest


@pytest.fixture
def project(helm_bin):
    return helm_bin


@pytest.fixture
def published(project, registries):
    return registries


def test_pure(tmp_path):
    pass


def test_helm_through_a_fixture(project):
    pass


def test_helm_directly(run_helm):
    pass


def test_registry_and_helm(published):
    pass


def test_registry_alone(auth_registry):
    pass


def test_cluster(kwok_cluster):
    pass


@pytest.mark.needs_helm
def test_explicit(tmp_path):
    pass
'''


def collected(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider", *args)
    assert result.ret == 0, result.outlines
    return sorted(line.split("::")[1] for line in result.outlines if "::" in line)


def test_markers_follow_the_fixture_closure(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    pytester.makeconftest('pytest_plugins = ["tests.plugins.needs", "tests.plugins.helm", "tests.plugins.registry", '
                          '"tests.plugins.cluster"]\n')
    pytester.makeini("[pytest]\naddopts = --strict-markers\nmarkers =\n    needs_helm: h\n    needs_registry: r\n"
                     "    needs_cluster: c\n")
    pytester.makepyfile(test_sample=SAMPLE)
    assert collected(pytester, "-m", "needs_helm") == ["test_explicit", "test_helm_directly", "test_helm_through_a_fixture",
                                                       "test_registry_and_helm"]
    assert collected(pytester, "-m", "needs_registry") == ["test_registry_alone", "test_registry_and_helm"]
    assert collected(pytester, "-m", "needs_cluster") == ["test_cluster"]
    assert collected(pytester, "-m", "not needs_helm and not needs_registry and not needs_cluster") == ["test_pure"]


def test_needs_names_only_known_kinds() -> None:
    assert markers_for(["helm_bin", "tmp_path", "registries"]) == ["needs_helm", "needs_registry"]
    assert markers_for(["helm_env", "project_root"]) == []
    with pytest.raises(ValueError, match=r"unknown needs \['docker'\]"):
        needs("helm", "docker")


NOX_PROJECT_TEST = '''
import os
from pathlib import Path

import pytest


def record(name):
    with (Path(__file__).parent.parent / "ran.txt").open("a") as f:
        f.write(f"{name} {Path(os.environ['HELM_BIN']).name}\\n")


@pytest.mark.needs_helm
def test_uses_helm():
    record("uses_helm")


@pytest.mark.needs_helm
@pytest.mark.one_helm
def test_helm_incidental():
    record("incidental")


def test_pure():
    record("pure")
'''


@pytest.fixture
def nox_project(tmp_path: Path) -> Path:
    """This repository's noxfile beside a two-test suite and two fake helm binaries (never run)."""
    shutil.copy2(ROOT / "noxfile.py", tmp_path / "noxfile.py")
    (tmp_path / ".tools" / "bin").mkdir(parents=True)
    for name in ("helm3", "helm4"):
        fake = tmp_path / ".tools" / "bin" / name
        fake.write_text("#!/bin/sh\nexit 3\n")
        fake.chmod(0o755)
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers\nmarkers =\n    needs_helm: runs helm\n"
                                          "    one_helm: helm 4 session only\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sample.py").write_text(NOX_PROJECT_TEST)
    return tmp_path


def nox(root: Path, session: str, *posargs: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NOX"))}
    env["PYTEST_WORKERS"] = "0"
    args = [str(Path(sys.executable).parent / "nox"), "-f", str(root / "noxfile.py"), "-s", session]
    return subprocess.run([*args, *(["--", *posargs] if posargs else [])], cwd=root, capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def test_helm3_session_runs_the_needs_helm_tests_and_helm4_every_test(nox_project: Path) -> None:
    three = nox(nox_project, "tests(helm='3')")
    assert three.returncode == 0, three.stderr
    assert (nox_project / "ran.txt").read_text().splitlines() == ["uses_helm helm3"]  # not the one_helm test
    four = nox(nox_project, "tests(helm='4')")
    assert four.returncode == 0, four.stderr
    assert sorted((nox_project / "ran.txt").read_text().splitlines()) == ["incidental helm4", "pure helm4", "uses_helm helm3",
                                                                          "uses_helm helm4"]


def test_a_selection_that_runs_nothing_fails_the_session(nox_project: Path) -> None:
    result = nox(nox_project, "tests(helm='4')", "-k", "no_such_test")
    assert result.returncode != 0
    assert "exit code 5" in result.stderr, result.stderr
    assert not (nox_project / "ran.txt").exists()
