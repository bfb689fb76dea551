"""Small charts written by hand for tests: an app chart and an umbrella with a file:// dependency."""

from __future__ import annotations

from pathlib import Path

APP_CHART = """\
# The application chart.
apiVersion: v2
name: app
description: An app   # trailing comment
type: application
version: "0.9.0"   # kept in step with the version file
appVersion: '0.9.0'
"""

UMBRELLA_CHART = """\
apiVersion: v2
name: umbrella
type: application
version: 0.9.0
appVersion: "0.9.0"
dependencies:
  # our own subchart, released in lockstep
  - name: app
    version: 0.9.0
    repository: file://../app
    condition: app.enabled
  - {name: cache, version: "0.9.0", repository: "file://../cache"}
  - name: external
    version: ~1.2.0
    repository: oci://registry.example.com/charts
"""

CACHE_CHART = """\
apiVersion: v2
name: cache
version: 0.9.0
appVersion: 7.4.2
"""


def write_charts(root: Path, version: str = "0.9.0") -> dict[str, Path]:
    charts = root / "charts"
    paths = {}
    for name, text in (("app", APP_CHART), ("umbrella", UMBRELLA_CHART), ("cache", CACHE_CHART)):
        d = charts / name
        (d / "templates").mkdir(parents=True, exist_ok=True)
        (d / "Chart.yaml").write_text(text.replace("0.9.0", version))
        (d / "values.yaml").write_text("replicaCount: 1\n")
        paths[name] = d / "Chart.yaml"
    return paths
