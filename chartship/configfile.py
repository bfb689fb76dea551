"""The ``chartship`` section of invoke.yaml: read it and check every key, naming the file, line and key.

:mod:`chartship.config` declares the settings and resolves their precedence; this module parses
the structured parts (charts, targets, environments, cluster contexts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartship import content_policy as policymod
from chartship import secrets, yamlio
from chartship.config import (
    CONFIG_FILE,
    LOCAL_REGISTRY_URL,
    SECTION,
    Config,
    Target,
    parse_app_version,
    parse_package_name,
    parse_str,
)
from chartship.errors import ConfigError

AUTH_KINDS = ("none", "basic", "ecr")
DEFAULT_TARGETS: dict[str, dict[str, Any]] = {
    "local": {"url": LOCAL_REGISTRY_URL, "auth": "none", "plain_http": True},
}
DEFAULT_ENVIRONMENTS: dict[str, list[str]] = {
    "dev": ["values-dev.yaml"],
    "staging": ["values-staging.yaml"],
    "prod": ["values-prod.yaml"],
}
TOP_KEYS = {"charts", "package_name", "app_version", "base_branch", "default_target", "jobs", "targets", "environments",
            "cluster_contexts", "kubernetes_versions", "retries", "retry_backoff", "latest_prereleases", "aliases",
            "versioning", "push_timeout", "validate", "unittest", "signing"}  # the last two: chartship.settings
VALIDATE_KEYS = {"crd_schemas"}
# kube contexts the `existing` cluster-test provider may use: local throwaway clusters only, unless configured
DEFAULT_CLUSTER_CONTEXTS = ("kind-*", "k3d-*", "kwok-*", "minikube", "docker-desktop", "rancher-desktop", "colima*",
                            "orbstack")
CHART_KEYS = {"dir", "only", "settings", *policymod.SPELLINGS}
CHART_SETTING_KEYS = {"app_version", "package_name", "docs", "versioning", *policymod.SPELLINGS}
DOCS_MODES = ("auto", "generate", "skip")  # charts.settings.NAME.docs: what helm.docs does with the README
CHART_VERSIONING = ("lockstep", "own")
TARGET_KEYS = {"type", "url", "auth", "region", "plain_http", "create_repository"}
TARGET_TYPES = ("oci", "pages")  # pages: chartship.pagestarget


class Where:
    """Names a key as ``invoke.yaml:LINE: chartship.a.b``."""

    def __init__(self, file: str) -> None:
        self.file = file

    def __call__(self, node: Any, path: tuple[str, ...]) -> str:
        line = ""
        if hasattr(node, "lc") and path and path[-1] in node:
            line = f":{yamlio.key_line(node, path[-1])}"
        return f"{self.file}{line}: {'.'.join((SECTION, *path))}"

    def under(self, node: Any, base: tuple[str, ...]) -> Callable[[str], str]:
        """A namer for the keys of ``node``, which sits at ``base``."""
        return lambda key: self(node, (*base, key))


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def check_keys(node: Mapping[str, Any], known: set[str], where: Callable[[str], str]) -> None:
    for key in node:
        if key not in known:
            raise ConfigError(f"{where(str(key))}: unknown key; known keys: {', '.join(sorted(known))}")


def lookup(data: Any, path: tuple[str, ...]) -> tuple[Any, Any, bool]:
    node = data
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            return None, None, False
        node = node[key]
    if isinstance(node, dict) and path[-1] in node:
        return node, node[path[-1]], True
    return node, None, False


def read_file(root: Path) -> Any:
    """The ``chartship`` section of invoke.yaml ({} when the file or section is absent)."""
    path = root / CONFIG_FILE
    if not path.exists():
        return {}
    _text, data = yamlio.load_file(path, CONFIG_FILE, ConfigError)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{CONFIG_FILE}: the top level must be a mapping with a '{SECTION}' key")
    section = data.get(SECTION)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"{CONFIG_FILE}:{yamlio.key_line(data, SECTION)}: {SECTION}: expected a mapping")
    return section


@dataclass(frozen=True)
class Sections:
    only: tuple[str, ...] | None
    overrides: dict[str, dict[str, str]]
    targets: dict[str, Target]
    environments: dict[str, tuple[str, ...]]
    cluster_contexts: tuple[str, ...]
    crd_schemas: tuple[str, ...] = ()
    content_policies: dict[str, policymod.ContentPolicy] = field(default_factory=dict)


def sections(data: Mapping[str, Any], where: Where) -> Sections:
    """Every structured key of the section, checked."""
    check_keys(data, TOP_KEYS, where.under(data, ()))
    charts = _mapping(data.get("charts", {}) or {}, where(data, ("charts",)))
    check_keys(charts, CHART_KEYS, where.under(charts, ("charts",)))
    return Sections(_chart_list(charts, where), _chart_overrides(charts, where), _targets(data, where),
                    _environments(data, where), _patterns(data, where), _crd_schemas(data, where),
                    policymod.from_charts(charts, where))


def _crd_schemas(data: Mapping[str, Any], where: Where) -> tuple[str, ...]:
    section = _mapping(data.get("validate", {}) or {}, where(data, ("validate",)))
    check_keys(section, VALIDATE_KEYS, where.under(section, ("validate",)))
    raw = section.get("crd_schemas") or []
    w = where(section, ("validate", "crd_schemas"))
    if not isinstance(raw, list) or not all(isinstance(d, str) and d for d in raw):
        raise ConfigError(f"{w}: expected a list of folders with <group>/<Kind>.json schemas")
    for d in raw:
        if Path(d).is_absolute() or ".." in Path(d).parts:
            raise ConfigError(f"{w}: {d!r} must be a folder inside the repository")
    return tuple(raw)


def _patterns(data: Mapping[str, Any], where: Where) -> tuple[str, ...]:
    raw = data.get("cluster_contexts")
    if raw is None:
        return DEFAULT_CLUSTER_CONTEXTS
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise ConfigError(f"{where(data, ('cluster_contexts',))}: expected a list of context name patterns, e.g. kind-*")
    return tuple(raw)


def _chart_list(charts: Mapping[str, Any], where: Where) -> tuple[str, ...] | None:
    if "only" not in charts or charts["only"] is None:
        return None
    only = charts["only"]
    w = where(charts, ("charts", "only"))
    if not isinstance(only, list) or not all(isinstance(n, str) and n for n in only):
        raise ConfigError(f"{w}: expected a list of chart folder names")
    return tuple(only)


def _chart_overrides(charts: Mapping[str, Any], where: Where) -> dict[str, dict[str, str]]:
    settings = _mapping(charts.get("settings", {}) or {}, where(charts, ("charts", "settings")))
    result: dict[str, dict[str, str]] = {}
    for chart, raw in settings.items():
        base = ("charts", "settings", str(chart))
        node = _mapping(raw or {}, where(settings, base))
        check_keys(node, CHART_SETTING_KEYS, where.under(node, base))
        own: dict[str, str] = {}
        if "app_version" in node:
            own["app_version"] = parse_app_version(node["app_version"], where(node, (*base, "app_version")))
        if "package_name" in node:
            own["package_name"] = parse_package_name(node["package_name"], where(node, (*base, "package_name")))
        if "docs" in node:
            own["docs"] = _docs_mode(node["docs"], where(node, (*base, "docs")))
        if "versioning" in node:
            if node["versioning"] not in CHART_VERSIONING:
                raise ConfigError(f"{where(node, (*base, 'versioning'))}: expected own (this chart's Chart.yaml "
                                  f"version rules it) or lockstep, got {node['versioning']!r}")
            own["versioning"] = str(node["versioning"])
        result[str(chart)] = own
    return result


def _docs_mode(value: Any, where: str) -> str:
    if value not in DOCS_MODES:
        raise ConfigError(f"{where}: expected generate (helm.docs writes this chart's README even if it is "
                          f"hand-written), skip (never) or auto (the default), got {value!r}")
    return str(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value


def parse_target(name: str, node: Mapping[str, Any], where: Callable[[str], str]) -> Target:
    """Validate one target mapping (also used for overrides from flags and environment)."""
    kind = node.get("type", "oci")
    if kind not in TARGET_TYPES:
        raise ConfigError(f"{where('type')}: expected one of {', '.join(TARGET_TYPES)}, got {kind!r}")
    if kind == "pages":
        from chartship import pagestarget

        return pagestarget.parse(name, node, where)
    check_keys(node, TARGET_KEYS, where)
    if "url" not in node:
        raise ConfigError(f"{where('url')}: missing; set it to oci://HOST[:PORT]/PATH")
    from chartship.registry.oci import Ref

    url = parse_str(node["url"], where("url"))
    secrets.refuse_userinfo(url, where("url"), ConfigError)
    if Ref.host_of(url) is None:
        raise ConfigError(f"{where('url')}: {url!r} must look like oci://HOST[:PORT]/PATH")
    auth = node.get("auth", "none")
    if auth not in AUTH_KINDS:
        raise ConfigError(f"{where('auth')}: expected one of {', '.join(AUTH_KINDS)}, got {auth!r}")
    region = node.get("region")
    if region is not None:
        region = parse_str(region, where("region"))
    return Target(
        name=name,
        url=url.rstrip("/"),
        auth=str(auth),
        region=region,
        plain_http=_bool(node.get("plain_http", False), where("plain_http")),
        create_repository=_bool(node.get("create_repository", False), where("create_repository")),
    )


def _targets(data: Mapping[str, Any], where: Where) -> dict[str, Target]:
    raw = data.get("targets")
    if raw is None:
        raw = DEFAULT_TARGETS
    raw = _mapping(raw, where(data, ("targets",)))
    result: dict[str, Target] = {}
    for name, node in raw.items():
        base = ("targets", str(name))
        mapping = _mapping(node, where(raw, base))
        result[str(name)] = parse_target(str(name), mapping, where.under(mapping, base))
    return result


def _environments(data: Mapping[str, Any], where: Where) -> dict[str, tuple[str, ...]]:
    raw = data.get("environments")
    if raw is None:
        raw = DEFAULT_ENVIRONMENTS
    raw = _mapping(raw, where(data, ("environments",)))
    result: dict[str, tuple[str, ...]] = {}
    for name, files in raw.items():
        w = where(raw, ("environments", str(name)))
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
            raise ConfigError(f"{w}: expected a list of values files relative to the chart folder")
        for f in files:
            if Path(f).is_absolute() or ".." in Path(f).parts:
                raise ConfigError(f"{w}: {f!r} must be a path inside the chart folder")
        result[str(name)] = tuple(files)
    return result


NO_CONFIG_HINT = "run `chartship init` in the repository to adopt its charts"


def has_config(root: Path) -> bool:
    """True when ``root/invoke.yaml`` has a ``chartship`` section."""
    if not (root / CONFIG_FILE).is_file():
        return False
    _text, data = yamlio.load_file(root / CONFIG_FILE, CONFIG_FILE, ConfigError)
    return isinstance(data, dict) and SECTION in data


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` with a chartship configuration."""
    for folder in (start, *start.parents):
        if has_config(folder):
            return folder
    raise ConfigError(f"no chartship configuration found in {start} or above (a {CONFIG_FILE} with a "
                      f"'{SECTION}:' section); {NO_CONFIG_HINT}")


def require_charts(cfg: Config, found: int) -> None:
    """A charts folder the configuration names must hold charts (the built-in default may be empty)."""
    origin = cfg.origins.get("charts_dir", "default")
    if found == 0 and origin != "default":
        where = f"{CONFIG_FILE}: {SECTION}.charts.dir" if origin == CONFIG_FILE else origin
        raise ConfigError(f"{where}: {cfg.charts_dir!r} holds no chart (no {cfg.charts_dir}/<name>/Chart.yaml); "
                          f"point it at the folder of your charts or {NO_CONFIG_HINT}")
