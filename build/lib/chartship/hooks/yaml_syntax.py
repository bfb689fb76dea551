"""Hook ``yaml-syntax``: the chart YAML files among the passed files (not templates/,
not vendored charts/) parse, and yamllint passes with the repository's config
(``.yamllint``/``.yamllint.yaml``/``.yamllint.yml``, else chartship's built-in rules).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from chartship.hooks import common

SUFFIXES = (".yaml", ".yml")


def check(root: Path, files: Sequence[str]) -> int:
    from chartship import config as cfgmod
    from chartship import report, yamlio
    from chartship.errors import ChartError
    from chartship.tools import yamllint as yamllintmod

    cfg = cfgmod.load(root)
    candidates = [
        d / name
        for d, names in common.files_by_chart(cfg, files).items()
        for name in names
        if name.endswith(SUFFIXES) and not ("/" in name and name.split("/", 1)[0] in yamllintmod.SKIP_DIRS)
    ]
    failed = False
    parsed: list[Path] = []
    for path in candidates:
        if not path.is_file():
            continue
        try:
            yamlio.load_file(path, common.rel(cfg, path), ChartError)
        except ChartError as exc:
            report.error(str(exc))
            failed = True
            continue
        parsed.append(path)
    for p in yamllintmod.run(root, parsed):
        where = common.rel(cfg, p.file if p.file.is_absolute() else root / p.file)
        line = f"{where}:{p.line}:{p.col}: [{p.level}] {p.message}"
        if p.level == "error":
            report.error(line)
            failed = True
        else:
            report.note(f"warning: {line}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chartship-yaml-syntax", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="changed files; the chart YAML files among them are checked")
    args = parser.parse_args(argv)
    root = common.root()
    return common.edge(lambda: check(root, args.files))
