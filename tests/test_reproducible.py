"""Same commit, two real clones (different umask, file times, checkout time) -> byte-identical packages."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from chartship.build import package
from tests.helpers import INVOKE
from tests.helpers.pipeline import GIT, commit, helm, invoke, new_repo, scaffold, sha256, umbrella

COMMIT_TIME = 1_700_000_000


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory, helm_bin: Path) -> Path:
    root = new_repo(tmp_path_factory.mktemp("origin") / "repo")
    scaffold(root, helm_bin, "web")
    umbrella(root, "suite", ["web"])
    commit(root, "init", when=COMMIT_TIME)
    return root


def clone(origin: Path, dest: Path, umask: int, mtime: float) -> Path:
    """A real `git clone` made under ``umask``, with every checked-out file's mtime set to ``mtime``."""
    subprocess.run([*GIT, "clone", "-q", str(origin), str(dest)], check=True, preexec_fn=lambda: os.umask(umask))
    for p in dest.rglob("*"):
        if ".git" not in p.parts:
            os.utime(p, (mtime, mtime), follow_symlinks=False)
    return dest


def build_in(root: Path, umask: int) -> dict[str, str]:
    result = subprocess.run([INVOKE, "helm.build", "--latest"], cwd=root,
                            capture_output=True, text=True, check=False, preexec_fn=lambda: os.umask(umask),
                            env={k: v for k, v in os.environ.items() if not k.startswith("CHARTSHIP_")})
    assert result.returncode == 0, result.stderr
    sums = (root / "dist/charts/SHA256SUMS").read_text()
    return {line.split("  ")[1]: line.split("  ")[0] for line in sums.splitlines()}


def test_two_clones_give_identical_packages(origin: Path, tmp_path: Path, helm_bin: Path) -> None:
    one = clone(origin, tmp_path / "one", 0o022, time.time() - 86_400 * 30)
    sums_one = build_in(one, 0o022)
    time.sleep(1.1)  # a different second for anything that stamps "now"
    two = clone(origin, tmp_path / "two", 0o077, time.time() + 3_600)
    assert (two / "charts/web/values.yaml").stat().st_mode & 0o077 == 0, "umask 077 took effect"
    sums_two = build_in(two, 0o077)
    assert set(sums_one) == {"web-0.1.0.tgz", "web-latest.tgz", "suite-0.1.0.tgz", "suite-latest.tgz"}
    assert sums_one == sums_two
    assert sums_one["web-0.1.0.tgz"] == sums_one["web-latest.tgz"]
    for name, digest in sums_one.items():
        assert sha256(one / "dist/charts" / name) == digest == sha256(two / "dist/charts" / name)
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=two / "dist/charts", capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == 4
    # helm reads the repacked archive; its Chart.yaml holds the real version, also in the latest package
    assert "version: 0.1.0" in helm(helm_bin, "show", "chart", str(one / "dist/charts/web-latest.tgz"))
    rendered = helm(helm_bin, "template", "x", str(one / "dist/charts/suite-0.1.0.tgz"))
    assert "kind: Deployment" in rendered and "x-umbrella" in rendered

    # helm.deps in each clone: the dependency archives are reproducible too, and nothing else is written
    for root in (one, two):
        result = invoke(root, "helm.deps")
        assert result.returncode == 0, result.stderr
        assert sorted(p.name for p in (root / "charts/suite").iterdir()) == ["Chart.yaml", "charts", "templates", "values.yaml"]
    dep = "charts/suite/charts/web-0.1.0.tgz"
    assert sha256(one / dep) == sha256(two / dep)
    # the file:// subchart archive equals the subchart's own package
    assert sha256(one / dep) == sums_one["web-0.1.0.tgz"]


def test_helm_alone_is_not_reproducible(origin: Path, tmp_path: Path, helm_bin: Path) -> None:
    """The measurement behind the repack. helm 3.17 stamps every entry with the packaging time;
    helm 4.3 stamps each entry with its source file's mtime (rounded to the second)."""
    major = int(helm(helm_bin, "version", "--template", "{{.Version}}").lstrip("v").split(".")[0])
    src = tmp_path / "web"
    subprocess.run(["cp", "-r", str(origin / "charts/web"), str(src)], check=True)
    os.utime(src / "values.yaml", (1_600_000_000, 1_600_000_000))
    digests = []
    for i in range(2):
        out = tmp_path / str(i)
        out.mkdir()
        helm(helm_bin, "package", str(src), "--destination", str(out))
        digests.append(sha256(out / "web-0.1.0.tgz"))
        with tarfile.open(out / "web-0.1.0.tgz") as tar:
            stamp = tar.getmember("web/values.yaml").mtime
        if major >= 4:
            assert stamp == 1_600_000_000 + 86_400 * i, "helm 4 keeps the file's mtime"
        else:
            assert abs(stamp - time.time()) < 120, "helm 3 uses the current time"
        time.sleep(1.1)
        os.utime(src / "values.yaml", (1_600_086_400, 1_600_086_400))
    assert digests[0] != digests[1]


def test_repack_normalises_everything(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, mode in (("c/values.yaml", 0o600), ("c/Chart.yaml", 0o755), ("c/a.txt", 0o640)):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime, info.uid, info.uname = 2, mode, 123456, 1000, "someone"
            tar.addfile(info, io.BytesIO(b"x\n"))
    src = tmp_path / "in.tgz"
    src.write_bytes(raw.getvalue())
    package.repack(src, tmp_path / "out.tgz", 42)
    data = (tmp_path / "out.tgz").read_bytes()
    assert data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff", "gzip: no file name, mtime 0"
    with tarfile.open(tmp_path / "out.tgz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["c/Chart.yaml", "c/a.txt", "c/values.yaml"]
    assert {(m.mtime, m.mode, m.uid, m.gid, m.uname, m.gname) for m in members} == {(42, 0o644, 0, 0, "", "")}
    package.repack(src, tmp_path / "again.tgz", 42)
    assert (tmp_path / "again.tgz").read_bytes() == data
    package.repack(src, tmp_path / "later.tgz", 43)
    assert (tmp_path / "later.tgz").read_bytes() != data


def test_source_epoch_fallbacks(tmp_path: Path, origin: Path) -> None:
    assert package.source_epoch(origin, ["charts/web"]) == COMMIT_TIME
    assert package.source_epoch(tmp_path, ["charts/web"], {"SOURCE_DATE_EPOCH": "1234"}) == 1234
    assert package.source_epoch(tmp_path, ["charts/web"], {}) == 0
