"""The files ``chartship init`` writes for a repository, as text: the configuration (invoke.yaml,
key ``chartship``), the version file and tag templates, tasks.py, noxfile.py, the git hooks, the
GitHub workflows, the chartship pin and .gitignore lines. Templates are package data."""

from __future__ import annotations

import json

from chartship import data
from chartship.adopt.discover import LOCKSTEP, Findings

VERSIONING_NOTE = {
    LOCKSTEP: "the `version` file rules every chart (they all had the same version)",
    "per-chart": "each Chart.yaml keeps its own version (the charts had different versions)",
}

TEMPLATES = {
    "tasks.py": "tasks.py.tmpl",
    "noxfile.py": "noxfile.py.tmpl",
    ".pre-commit-config.yaml": "pre-commit-config.yaml.tmpl",
    ".github/workflows/pr.yml": "workflows/pr.yml.tmpl",
    ".github/workflows/release.yml": "workflows/release.yml.tmpl",
}
PIN_FILE = "requirements-chartship.txt"
GITIGNORE = (".tools/", ".cache/", "dist/", "__pycache__/")


def template(name: str) -> str:
    return data.path("templates", name).read_text(encoding="utf-8")


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) if not i.replace("-", "").replace(".", "").replace("_", "").isalnum()
                           else i for i in items) + "]"


def config_text(found: Findings, port: int) -> str:
    envs = found.environments
    lines = [
        "# chartship configuration (written by `chartship init`): everything lives under the `chartship` key.",
        "# Precedence: command-line flag > environment variable > this file > built-in default.",
        "# `chartship config.show` prints the effective values and where each came from.",
        "chartship:",
        "  charts:",
        f"    dir: {found.charts_dir}",
        f"  versioning: {found.versioning}{' ' * (16 - len(found.versioning))}# {VERSIONING_NOTE[found.versioning]}",
        "  app_version: pinned         # appVersion is the application's version: chartship never rewrites it",
        "  default_target: local",
        "  targets:",
        "    local:                    # the embedded registry on 127.0.0.1 (`chartship helm.deploy` starts it)",
        f"      url: oci://127.0.0.1:{port}/charts",
        "      auth: none",
        "      plain_http: true",
    ]
    if envs:
        lines.append("  environments:              # values files found beside the charts (values-<env>.yaml)")
        lines += [f"    {env}: {_flow(files)}" for env, files in envs.items()]
    else:
        lines.append("  environments: {}           # no values-<env>.yaml found")
    tests = [f"{c.rel}/{t}" for c in found.charts for t in c.test_values]
    if tests:
        lines.append("# chart-testing values files found (each is a values set named ci/<file>):")
        lines += [f"#   {t}" for t in tests]
    return "\n".join(lines) + "\n"


def files(found: Findings, chartship_version: str, port: int = 5000) -> dict[str, str]:
    """Repository path -> content of every file ``chartship init`` writes (a ``version`` file only for lockstep)."""
    out = {"invoke.yaml": config_text(found, port)}
    if found.versioning == LOCKSTEP:
        out["version"] = f"{found.version}\n"
    out.update({"tag-templates/version-tag-template": "{VERSION}\n", "tag-templates/latest-tag-template": "latest\n"})
    out.update({dest: template(name) for dest, name in TEMPLATES.items()})
    out[PIN_FILE] = ("# The chartship version this repository is checked with (CI installs it from here).\n"
                     "# A path, a git URL (git+https://HOST/ORG/chartship@vX.Y.Z) or an index version; upgrade by\n"
                     "# changing it, then `python -m pip install -r requirements-chartship.txt`.\n"
                     f"chartship=={chartship_version}\n")
    out[".gitignore"] = "".join(f"{line}\n" for line in GITIGNORE)
    return out
