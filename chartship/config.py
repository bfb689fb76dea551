"""Project configuration: ``invoke.yaml`` (key ``chartship``), environment, flags.

Precedence, implemented once in :func:`load`: flag > environment variable >
invoke.yaml > built-in default. Every problem names the file (or variable)
and the key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml.comments import CommentedMap

from chartship import placeholders, yamlio
from chartship.errors import ConfigError

CONFIG_FILE = "invoke.yaml"
SECTION = "chartship"
PACKAGE_FIELDS = ("name", "TAG", "VERSION")
AUTH_KINDS = ("none", "basic", "ecr")
APP_VERSION_MODES = ("follow", "pinned")
VERSIONING_MODES = ("lockstep", "per-chart")  # top level `versioning`; a chart leaves lockstep with `versioning: own`
CHART_VERSIONING = ("lockstep", "own")
# Kubernetes versions `helm.validate` checks rendered manifests against (offline schemas of kubernetes-validate).
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

AppVersionMode = Literal["follow", "pinned"]


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    auth: str = "none"
    region: str | None = None
    plain_http: bool = False
    create_repository: bool = False

    @property
    def host(self) -> str:
        return self.url.removeprefix("oci://").split("/", 1)[0]


@dataclass(frozen=True)
class ChartSettings:
    app_version: AppVersionMode
    package_name: str
    versioning: str = "lockstep"  # "own": the chart's Chart.yaml version rules it, never the version file


@dataclass(frozen=True)
class Config:
    root: Path
    charts_dir: str
    chart_names: tuple[str, ...] | None
    chart_overrides: Mapping[str, Mapping[str, str]]
    package_name: str
    app_version: AppVersionMode
    base_branch: str
    default_target: str
    targets: Mapping[str, Target]
    environments: Mapping[str, tuple[str, ...]]
    jobs: int
    origins: Mapping[str, str] = field(default_factory=dict)
    cluster_contexts: tuple[str, ...] = ()
    kubernetes_versions: tuple[str, ...] = KUBERNETES_VERSIONS
    versioning: str = "lockstep"

    @property
    def version_file(self) -> Path:
        return self.root / "version"

    @property
    def tag_templates_dir(self) -> Path:
        return self.root / "tag-templates"

    def chart_settings(self, chart: str) -> ChartSettings:
        own = self.chart_overrides.get(chart, {})
        mode = own.get("app_version", self.app_version)
        return ChartSettings(
            app_version="pinned" if mode == "pinned" else "follow",
            package_name=own.get("package_name", self.package_name),
            versioning="own" if self.versioning == "per-chart" else own.get("versioning", "lockstep"),
        )

    def target(self, name: str | None = None) -> Target:
        wanted = name or self.default_target
        if wanted not in self.targets:
            raise ConfigError(
                f"target {wanted!r} is not defined; define it under chartship.targets in {CONFIG_FILE} "
                f"(known: {', '.join(sorted(self.targets)) or 'none'})"
            )
        return self.targets[wanted]


# ----------------------------------------------------------------- scalar settings

@dataclass(frozen=True)
class Setting:
    path: tuple[str, ...]
    env: str
    default: Any
    parse: Callable[[Any, str], Any]


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _jobs(value: Any, where: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: expected a whole number >= 1, got {value!r}")
    return value


def _app_version(value: Any, where: str) -> str:
    if value not in APP_VERSION_MODES:
        raise ConfigError(f"{where}: expected one of {', '.join(APP_VERSION_MODES)}, got {value!r}")
    return str(value)


def _package_name(value: Any, where: str) -> str:
    text = _str(value, where)
    used = placeholders.fields(text, PACKAGE_FIELDS, where, ConfigError)
    if "TAG" not in used:
        raise ConfigError(f"{where}: {text!r} needs the {{TAG}} placeholder so version and latest packages differ")
    if not text.endswith(".tgz") or "/" in text:
        raise ConfigError(f"{where}: {text!r} must be a file name ending in .tgz")
    return text


def _charts_dir(value: Any, where: str) -> str:
    text = _str(value, where)
    if Path(text).is_absolute() or ".." in Path(text).parts:
        raise ConfigError(f"{where}: {text!r} must be a folder inside the repository")
    return text


def _kubernetes_versions(value: Any, where: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ConfigError(f"{where}: expected a list of Kubernetes versions such as [1.30.0, 1.37.0], got {value!r}")
    result = []
    for item in items:
        text = str(item).strip()
        parts = text.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ConfigError(f"{where}: {text!r} is not a Kubernetes version MAJOR.MINOR.PATCH (e.g. 1.30.0)")
        result.append(text)
    return tuple(result)


SETTINGS: dict[str, Setting] = {
    "charts_dir": Setting(("charts", "dir"), "CHARTSHIP_CHARTS_DIR", "charts", _charts_dir),
    "package_name": Setting(("package_name",), "CHARTSHIP_PACKAGE_NAME", "{name}-{TAG}.tgz", _package_name),
    "app_version": Setting(("app_version",), "CHARTSHIP_APP_VERSION", "pinned", _app_version),
    "base_branch": Setting(("base_branch",), "CHARTSHIP_BASE_BRANCH", "main", _str),
    "default_target": Setting(("default_target",), "CHARTSHIP_TARGET", "local", _str),
    "jobs": Setting(("jobs",), "CHARTSHIP_JOBS", 0, _jobs),
    "kubernetes_versions": Setting(("kubernetes_versions",), "CHARTSHIP_KUBERNETES_VERSIONS", KUBERNETES_VERSIONS,
                                   _kubernetes_versions),
}

DEFAULT_TARGETS: dict[str, dict[str, Any]] = {
    "local": {"url": "oci://127.0.0.1:5000/charts", "auth": "none", "plain_http": True},
}
DEFAULT_ENVIRONMENTS: dict[str, list[str]] = {
    "dev": ["values-dev.yaml"],
    "staging": ["values-staging.yaml"],
    "prod": ["values-prod.yaml"],
}
TOP_KEYS = {"charts", "package_name", "app_version", "base_branch", "default_target", "jobs", "targets", "environments",
            "cluster_contexts", "kubernetes_versions", "versioning"}
# kube contexts the `existing` cluster-test provider may use: local throwaway clusters only, unless configured
DEFAULT_CLUSTER_CONTEXTS = ("kind-*", "k3d-*", "kwok-*", "minikube", "docker-desktop", "rancher-desktop", "colima*",
                            "orbstack")
CHART_KEYS = {"dir", "only", "settings"}
CHART_SETTING_KEYS = {"app_version", "package_name", "versioning"}
TARGET_KEYS = {"url", "auth", "region", "plain_http", "create_repository"}


class _Where:
    """Names a key as ``invoke.yaml:LINE: chartship.a.b``."""

    def __init__(self, file: str) -> None:
        self.file = file

    def __call__(self, node: Any, path: tuple[str, ...]) -> str:
        line = ""
        if isinstance(node, CommentedMap) and path and path[-1] in node:
            line = f":{yamlio.key_line(node, path[-1])}"
        return f"{self.file}{line}: {'.'.join((SECTION, *path))}"

    def under(self, node: Any, base: tuple[str, ...]) -> Callable[[str], str]:
        """A namer for the keys of ``node``, which sits at ``base``."""
        return lambda key: self(node, (*base, key))


def _mapping(value: Any, where: str) -> CommentedMap | dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _check_keys(node: Mapping[str, Any], known: set[str], where: Callable[[str], str]) -> None:
    for key in node:
        if key not in known:
            raise ConfigError(f"{where(str(key))}: unknown key; known keys: {', '.join(sorted(known))}")


def _get(data: Any, path: tuple[str, ...]) -> tuple[Any, Any, bool]:
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


def load(root: Path, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Resolve the configuration: flag > environment variable > invoke.yaml > default."""
    env = os.environ if environ is None else environ
    flags = flags or {}
    unknown_flags = set(flags) - set(SETTINGS)
    if unknown_flags:
        raise ValueError(f"unknown setting(s) {sorted(unknown_flags)}")
    data = read_file(root)
    where = _Where(CONFIG_FILE)
    _check_keys(data, TOP_KEYS, where.under(data, ()))

    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name, s in SETTINGS.items():
        parent, raw, present = _get(data, s.path)
        if flags.get(name) is not None:
            values[name], origins[name] = s.parse(flags[name], f"--{name.replace('_', '-')}"), "flag"
        elif env.get(s.env):
            values[name], origins[name] = s.parse(env[s.env], s.env), f"env {s.env}"
        elif present:
            values[name], origins[name] = s.parse(raw, where(parent, s.path)), CONFIG_FILE
        else:
            values[name], origins[name] = s.default, "default"
    if values["jobs"] == 0:
        values["jobs"] = os.cpu_count() or 1

    charts = _mapping(data.get("charts", {}) or {}, where(data, ("charts",)))
    _check_keys(charts, CHART_KEYS, where.under(charts, ("charts",)))
    only = _chart_list(charts, where)
    overrides = _chart_overrides(charts, where)
    targets = _targets(data, where)
    environments = _environments(data, where)
    if values["default_target"] not in targets:
        raise ConfigError(
            f"{origins['default_target']}: default target {values['default_target']!r} is not defined under "
            f"{SECTION}.targets (known: {', '.join(sorted(targets))})"
        )
    return Config(
        root=root,
        charts_dir=values["charts_dir"],
        chart_names=only,
        chart_overrides=overrides,
        package_name=values["package_name"],
        app_version=values["app_version"],
        base_branch=values["base_branch"],
        default_target=values["default_target"],
        targets=targets,
        environments=environments,
        jobs=values["jobs"],
        kubernetes_versions=values["kubernetes_versions"],
        origins=origins,
        cluster_contexts=_patterns(data, where),
        versioning=_versioning(data, where, origins),
    )


def _versioning(data: Mapping[str, Any], where: _Where, origins: dict[str, str]) -> str:
    """``versioning``: lockstep (the version file rules the lockstep set; the default) or per-chart."""
    if "versioning" not in data:
        origins["versioning"] = "default"
        return "lockstep"
    if data["versioning"] not in VERSIONING_MODES:
        raise ConfigError(f"{where(data, ('versioning',))}: expected one of {', '.join(VERSIONING_MODES)}, "
                          f"got {data['versioning']!r}")
    origins["versioning"] = CONFIG_FILE
    return str(data["versioning"])


def _patterns(data: Mapping[str, Any], where: _Where) -> tuple[str, ...]:
    raw = data.get("cluster_contexts")
    if raw is None:
        return DEFAULT_CLUSTER_CONTEXTS
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise ConfigError(f"{where(data, ('cluster_contexts',))}: expected a list of context name patterns, e.g. kind-*")
    return tuple(raw)


def _chart_list(charts: Mapping[str, Any], where: _Where) -> tuple[str, ...] | None:
    if "only" not in charts or charts["only"] is None:
        return None
    only = charts["only"]
    w = where(charts, ("charts", "only"))
    if not isinstance(only, list) or not all(isinstance(n, str) and n for n in only):
        raise ConfigError(f"{w}: expected a list of chart folder names")
    return tuple(only)


def _chart_overrides(charts: Mapping[str, Any], where: _Where) -> dict[str, dict[str, str]]:
    settings = _mapping(charts.get("settings", {}) or {}, where(charts, ("charts", "settings")))
    result: dict[str, dict[str, str]] = {}
    for chart, raw in settings.items():
        base = ("charts", "settings", str(chart))
        node = _mapping(raw or {}, where(settings, base))
        _check_keys(node, CHART_SETTING_KEYS, where.under(node, base))
        own: dict[str, str] = {}
        if "app_version" in node:
            own["app_version"] = _app_version(node["app_version"], where(node, (*base, "app_version")))
        if "package_name" in node:
            own["package_name"] = _package_name(node["package_name"], where(node, (*base, "package_name")))
        if "versioning" in node:
            if node["versioning"] not in CHART_VERSIONING:
                raise ConfigError(f"{where(node, (*base, 'versioning'))}: expected own (this chart's Chart.yaml "
                                  f"version rules it) or lockstep, got {node['versioning']!r}")
            own["versioning"] = str(node["versioning"])
        result[str(chart)] = own
    return result


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value


def parse_target(name: str, node: Mapping[str, Any], where: Callable[[str], str]) -> Target:
    """Validate one target mapping (also used for overrides from flags and environment)."""
    _check_keys(node, TARGET_KEYS, where)
    if "url" not in node:
        raise ConfigError(f"{where('url')}: missing; set it to oci://HOST[:PORT]/PATH")
    url = _str(node["url"], where("url"))
    host = url.removeprefix("oci://").split("/", 1)[0]
    if not url.startswith("oci://") or not host:
        raise ConfigError(f"{where('url')}: {url!r} must look like oci://HOST[:PORT]/PATH")
    auth = node.get("auth", "none")
    if auth not in AUTH_KINDS:
        raise ConfigError(f"{where('auth')}: expected one of {', '.join(AUTH_KINDS)}, got {auth!r}")
    region = node.get("region")
    if region is not None:
        region = _str(region, where("region"))
    return Target(
        name=name,
        url=url.rstrip("/"),
        auth=str(auth),
        region=region,
        plain_http=_bool(node.get("plain_http", False), where("plain_http")),
        create_repository=_bool(node.get("create_repository", False), where("create_repository")),
    )


def _targets(data: Mapping[str, Any], where: _Where) -> dict[str, Target]:
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


def _environments(data: Mapping[str, Any], where: _Where) -> dict[str, tuple[str, ...]]:
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


def _flag(value: str, where: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{where}: expected 1/0 (true/false), got {value!r}")


def release_target(cfg: Config, name: str | None = None, registry: str | None = None, plain_http: bool = False,
                   environ: Mapping[str, str] | None = None) -> Target:
    """The target to publish to. ``--registry``/CHARTSHIP_REGISTRY replace the configured target as a
    whole (auth from CHARTSHIP_REGISTRY_AUTH, default none); ``--plain-http``/CHARTSHIP_PLAIN_HTTP=1 apply to either."""
    env = os.environ if environ is None else environ
    http = plain_http or _flag(env.get("CHARTSHIP_PLAIN_HTTP", ""), "CHARTSHIP_PLAIN_HTTP")
    url = registry or env.get("CHARTSHIP_REGISTRY", "")
    if url:
        origin = "--registry" if registry else "CHARTSHIP_REGISTRY"
        node: dict[str, Any] = {"url": url, "auth": env.get("CHARTSHIP_REGISTRY_AUTH") or "none", "plain_http": http}
        if env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"):
            node["region"] = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")

        def where(key: str) -> str:
            return "CHARTSHIP_REGISTRY_AUTH" if key == "auth" else origin

        return parse_target(origin, node, where)
    target = cfg.target(name)
    return replace(target, plain_http=True) if http else target
