"""README.md and docs/: the README stays short, every relative link (and its #anchor) resolves."""

from __future__ import annotations

import re
from pathlib import Path

from chartship.reference import anchor

README_LIMIT = 12 * 1024
QUICK_START = (
    "ci/bootstrap invoke helm.deploy --latest   # set up, then lint, build, push every chart to the local registry, "
    "tag latest",
    "ci/bootstrap nox -s lint template tests    # set up, then run the linters, template validation and the whole "
    "test suite (helm 3 and helm 4)",
)
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)


def pages(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def _prose(text: str) -> str:
    """The text without fenced code blocks and code spans (links there are examples, not links)."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def anchors(path: Path) -> set[str]:
    """The heading anchors GitHub gives ``path``; a repeated heading gets -1, -2, ..."""
    seen: dict[str, int] = {}
    result = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = anchor(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def broken_links(root: Path, files: list[Path]) -> list[str]:
    """``file: target`` for every relative link whose file, or whose #anchor in a Markdown file, does not exist."""
    problems = []
    for page in files:
        for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                continue  # http:, https:, mailto: ...
            path_part, _, fragment = target.partition("#")
            dest = (page.parent / path_part).resolve() if path_part else page
            rel = page.relative_to(root)
            if not dest.exists() or not dest.is_relative_to(root.resolve()):
                problems.append(f"{rel}: {target} (no such file)")
            elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
                problems.append(f"{rel}: {target} (no such heading)")
    return problems


def test_readme_is_at_most_12_kb(project_root: Path) -> None:
    size = len((project_root / "README.md").read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; move detail into docs/"


def test_readme_keeps_the_quick_start_commands_verbatim(project_root: Path) -> None:
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    for command in QUICK_START:
        assert f"\n{command}\n" in readme
    assert (project_root / ".ci" / "run").read_text(encoding="utf-8").strip().endswith(
        "exec " + QUICK_START[1].split("  #", 1)[0].strip())


def test_every_relative_link_in_the_readme_and_docs_resolves(project_root: Path) -> None:
    files = pages(project_root)
    assert len(files) > 10
    assert broken_links(project_root, files) == []


def test_every_docs_page_is_linked_from_the_readme(project_root: Path) -> None:
    readme = _prose((project_root / "README.md").read_text(encoding="utf-8"))
    linked = {(project_root / t.partition("#")[0]).resolve() for t in LINK.findall(readme)}
    assert [p.relative_to(project_root) for p in pages(project_root)[1:] if p.resolve() not in linked] == []


def test_the_link_check_finds_missing_files_and_headings(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Same\n\n## Same\n\n### `helm.push` flags\n", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "[ok](docs/a.md) [ok](docs/a.md#a-page) [ok](docs/a.md#same-1) [ok](docs/a.md#helmpush-flags)\n"
        "[web](https://example.com/x) `[code](missing.md)`\n\n```\n[fenced](missing.md)\n```\n"
        "[gone](docs/b.md) [bad anchor](docs/a.md#same-2) [here](#nowhere) [outside](../elsewhere.md)\n",
        encoding="utf-8")
    assert broken_links(tmp_path, pages(tmp_path)) == [
        "README.md: docs/b.md (no such file)",
        "README.md: docs/a.md#same-2 (no such heading)",
        "README.md: #nowhere (no such heading)",
        "README.md: ../elsewhere.md (no such file)",
    ]
