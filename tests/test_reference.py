"""docs/reference/*.md: generated from the invoke Collection and config.SETTINGS; `invoke docs.reference --check`."""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chartship import config, reference
from chartship.errors import CheckFailed
from chartship.tasks import namespace

INVOKE = str(Path(sys.executable).parent / "invoke")


def test_tasks_page_names_every_task_and_every_flag_with_its_help(project_root: Path) -> None:
    ns = namespace(project_root)
    page = reference.tasks_page(ns)
    assert sorted(ns.task_names) == sorted(line[3:] for line in page.splitlines() if line.startswith("## "))
    for name in ns.task_names:
        task = ns[name]
        section = page.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        doc = " ".join((task.__doc__ or "").split())
        assert doc and doc in " ".join(section.split())
        rows = [line for line in section.splitlines() if line.startswith("| `-")]
        params = [p for p in inspect.signature(task.body).parameters if p != "c"]
        assert len(rows) == len(params)
        for param in params:
            flag = param.strip("_").replace("_", "-")  # invoke drops a trailing _ (from_ -> --from)
            row = next(r for r in rows if f"`--{flag}`" in r or f"`--{flag}=" in r)
            assert getattr(task, "flag_help", task.help)[param].replace("|", "\\|") in row, (name, param)
    assert "Usage: `invoke helm.resolve [--options] REF TAG`" in page
    assert "| `-c`, `--chart` | only this chart (repeatable) |" in page.split("\n## helm.push\n", 1)[1]
    # positional arguments have no short flag (-r is --release in every task that has one)
    assert "| `--ref=STRING` | (positional) oci://HOST[:PORT]/PATH/CHART |" in page


def test_configuration_page_names_every_setting(project_root: Path) -> None:
    page = reference.configuration_page(config.SETTINGS)
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) == len(config.SETTINGS)
    for s in config.SETTINGS.values():
        start = f"| `{'.'.join(s.path)}` | `{s.env}` |" if s.path else f"| `{s.env}` |"
        assert sum(row.startswith(start) for row in rows) == 1, start
    assert "| `charts.dir` | `CHARTSHIP_CHARTS_DIR` | `charts` |" in page
    assert "| `kubernetes_versions` | `CHARTSHIP_KUBERNETES_VERSIONS` | `[1.30.0, 1.37.0]` |" in page


def test_pages_are_deterministic(project_root: Path) -> None:
    ns = namespace(project_root)
    first = reference.pages(ns, config.SETTINGS)
    assert reference.pages(ns, config.SETTINGS) == first  # reading the flags' help leaves the tasks as they were
    second = reference.pages(namespace(project_root / "elsewhere"), dict(reversed(list(config.SETTINGS.items()))))
    assert first == second
    assert str(project_root) not in "".join(first.values())


def test_check_fails_on_a_stale_page_and_passes_after_writing(tmp_path: Path, project_root: Path) -> None:
    wanted = reference.pages(namespace(project_root), config.SETTINGS)
    with pytest.raises(CheckFailed, match=r"^docs/reference/configuration.md, docs/reference/tasks.md are out of date"):
        reference.check(tmp_path, wanted)
    assert reference.write(tmp_path, wanted) == sorted(wanted)
    reference.check(tmp_path, wanted)
    page = tmp_path / reference.TASKS_PAGE
    page.write_text(page.read_text(encoding="utf-8").replace("helm.push", "helm.shove"), encoding="utf-8")
    with pytest.raises(CheckFailed) as err:
        reference.check(tmp_path, wanted)
    assert str(err.value) == ("docs/reference/tasks.md is out of date with the code; "
                              "run `invoke docs.reference` and commit the result")
    before = (tmp_path / reference.CONFIG_PAGE).stat().st_mtime_ns
    assert reference.write(tmp_path, wanted) == [reference.TASKS_PAGE]
    assert (tmp_path / reference.CONFIG_PAGE).stat().st_mtime_ns == before  # an up-to-date page is not rewritten
    reference.check(tmp_path, wanted)


def test_invoke_docs_reference_check_through_the_real_invoke(tmp_path: Path, project_root: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy2(project_root / "tasks.py", root / "tasks.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTSHIP_")}
    env["PYTHONPATH"] = os.pathsep.join([str(project_root), env.get("PYTHONPATH", "")])

    def inv(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([INVOKE, *args], cwd=root, capture_output=True, text=True, check=False, env=env, timeout=120)

    missing = inv("docs.reference", "--check")
    assert missing.returncode == 1
    assert missing.stderr.strip() == ("error: docs/reference/configuration.md, docs/reference/tasks.md are out of date "
                                      "with the code; run `invoke docs.reference` and commit the result")
    assert not (root / "docs").exists()  # --check writes nothing

    wrote = inv("docs.reference")
    assert wrote.returncode == 0, wrote.stderr
    assert wrote.stdout.splitlines() == ["wrote docs/reference/configuration.md", "wrote docs/reference/tasks.md"]
    ok = inv("docs.reference", "--check")
    assert (ok.returncode, ok.stdout.strip(), ok.stderr) == (0, "ok: 2 reference page(s) up to date", "")

    page = root / "docs" / "reference" / "configuration.md"
    page.write_text(page.read_text(encoding="utf-8") + "| `extra` | | | hand-written |\n", encoding="utf-8")
    stale = inv("docs.reference", "--check")
    assert stale.returncode == 1
    assert "Traceback" not in stale.stderr
    assert stale.stderr.strip() == ("error: docs/reference/configuration.md is out of date with the code; "
                                    "run `invoke docs.reference` and commit the result")
    assert inv("docs.reference").stdout.strip() == "wrote docs/reference/configuration.md"
    assert inv("docs.reference", "--check").returncode == 0


def test_committed_reference_pages_are_up_to_date(project_root: Path) -> None:
    wanted = reference.pages(namespace(project_root), config.SETTINGS)
    assert reference.stale(project_root, wanted) == [], "run `invoke docs.reference` and commit the result"
