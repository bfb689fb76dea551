"""Project configuration: ``invoke.yaml`` (key ``chartship``), environment, flags.

Precedence, implemented once in :func:`load`: flag > environment variable >
invoke.yaml > built-in default. Every problem names the file (or variable)
and the key. :data:`SETTINGS` (in :mod:`chartship.configsettings`, re-exported here) declares every setting and every environment
variable chartship reads; code reads a variable only through :func:`env`
(or gets the value from the loaded :class:`Config`). ``invoke config.show``
lists them all. The file's structured keys are parsed in :mod:`chartship.configfile`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from chartship import content_policy as policymod
from chartship.configsettings import (
    APP_VERSION_MODES,
    FILE_SETTINGS,
    KUBERNETES_VERSIONS,
    PACKAGE_FIELDS,
    SETTINGS,
    VERSIONING_MODES,
    Setting,
    _flag,
    env,
    environment,
    one_of,
    parse_app_version,
    parse_package_name,
    parse_str,
)
from chartship.errors import ConfigError

if TYPE_CHECKING:
    from chartship.tools.helm import Helm

# the settings live in chartship.configsettings; they are re-exported here, where callers look for them
__all__ = ["APP_VERSION_MODES", "FILE_SETTINGS", "KUBERNETES_VERSIONS", "PACKAGE_FIELDS", "SETTINGS", "VERSIONING_MODES",
           "Setting", "env", "environment", "one_of", "parse_app_version", "parse_package_name", "parse_str"]

CONFIG_FILE = "invoke.yaml"
SECTION = "chartship"
# the project's layout: each of these is defined here and nowhere else
DIST_DIR = Path("dist") / "charts"  # built packages, SHA256SUMS, manifest.json
PATCHES_DIR = "patches"  # patches/<chart>/NNNN-*.patch, applied to the temporary copy
REGISTRY_STATE = Path(".cache") / "registry"  # the embedded local registry's config, data, pid and log
LOCAL_REGISTRY_URL = "oci://127.0.0.1:5000/charts"  # the built-in `local` target
LOCAL_HOSTS = ("127.0.0.1", "localhost")

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
        from chartship.registry.oci import Ref

        return Ref.parse_base(self.url).host


@dataclass(frozen=True)
class ChartSettings:
    app_version: AppVersionMode
    package_name: str
    content_policy: policymod.ContentPolicy = policymod.DEFAULT
    docs: str = "auto"  # helm.docs: auto (its own READMEs and missing ones), generate (always) or skip
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
    retries: int = 5
    retry_backoff: float = 0.5
    latest_prereleases: bool = False  # may a prerelease (a dev build too) move the latest alias?
    crd_schemas: tuple[str, ...] = ()  # the repository's own CRD schema folders (validate.crd_schemas)
    content_policies: Mapping[str, policymod.ContentPolicy] = field(default_factory=dict)  # "" = every chart
    aliases_latest: str = "highest-final"
    versioning: str = "lockstep"  # or per-chart
    push_timeout: float = 300.0  # seconds one helm push may take (then it is stopped and retried)

    @cached_property
    def helm(self) -> Helm:
        """This run's helm, located on first use (HELM_BIN > .tools/bin/helm > PATH) and then passed along."""
        from chartship.tools.helm import Helm

        return Helm.locate(self.root)

    @property
    def version_file(self) -> Path:
        return self.root / "version"

    @property
    def tag_templates_dir(self) -> Path:
        return self.root / "tag-templates"

    @property
    def dist_dir(self) -> Path:
        return self.root / DIST_DIR

    def chart_settings(self, chart: str) -> ChartSettings:
        own = self.chart_overrides.get(chart, {})
        mode = own.get("app_version", self.app_version)
        return ChartSettings(
            app_version="pinned" if mode == "pinned" else "follow",
            package_name=own.get("package_name", self.package_name),
            content_policy=self.content_policies.get(chart, self.content_policies.get("", policymod.DEFAULT)),
            docs=own.get("docs", "auto"),
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



def load(root: Path, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Resolve the configuration: flag > environment variable > invoke.yaml > default."""
    from chartship import configfile

    env_ = os.environ if environ is None else environ
    flags = flags or {}
    unknown_flags = set(flags) - set(FILE_SETTINGS)
    if unknown_flags:
        raise ValueError(f"unknown setting(s) {sorted(unknown_flags)}")
    data = configfile.read_file(root)
    where = configfile.Where(CONFIG_FILE)
    found = configfile.sections(data, where)

    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name, s in FILE_SETTINGS.items():
        parent, raw, present = configfile.lookup(data, s.path)
        if flags.get(name) is not None:
            values[name], origins[name] = s.parse(flags[name], f"--{name.replace('_', '-')}"), "flag"
        elif env_.get(s.env):
            values[name], origins[name] = s.parse(env_[s.env], s.env), f"env {s.env}"
        elif present:
            values[name], origins[name] = s.parse(raw, where(parent, s.path)), CONFIG_FILE
        else:
            values[name], origins[name] = s.default, "default"
    if values["jobs"] == 0:
        values["jobs"] = os.cpu_count() or 1
    if values["default_target"] not in found.targets:
        raise ConfigError(
            f"{origins['default_target']}: default target {values['default_target']!r} is not defined under "
            f"{SECTION}.targets (known: {', '.join(sorted(found.targets))})"
        )
    return Config(
        root=root,
        charts_dir=values["charts_dir"],
        chart_names=found.only,
        chart_overrides=found.overrides,
        package_name=values["package_name"],
        app_version=values["app_version"],
        base_branch=values["base_branch"],
        default_target=values["default_target"],
        targets=found.targets,
        environments=found.environments,
        jobs=values["jobs"],
        kubernetes_versions=values["kubernetes_versions"],
        retries=values["retries"],
        retry_backoff=values["retry_backoff"],
        latest_prereleases=values["latest_prereleases"],
        aliases_latest=values["aliases_latest"],
        versioning=values["versioning"],
        push_timeout=values["push_timeout"],
        origins=origins,
        cluster_contexts=found.cluster_contexts,
        crd_schemas=found.crd_schemas,
        content_policies=found.content_policies,
    )


def release_target(cfg: Config, name: str | None = None, registry: str | None = None, plain_http: bool = False,
                   environ: Mapping[str, str] | None = None) -> Target:
    """The target to publish to. ``--registry``/CHARTSHIP_REGISTRY replace the configured target as a
    whole (auth from CHARTSHIP_REGISTRY_AUTH, default none); ``--plain-http``/CHARTSHIP_PLAIN_HTTP=1 apply to either."""
    from chartship import configfile

    http = plain_http or _flag(env("CHARTSHIP_PLAIN_HTTP", environ), "CHARTSHIP_PLAIN_HTTP")
    url = registry or env("CHARTSHIP_REGISTRY", environ)
    if url:
        origin = "--registry" if registry else "CHARTSHIP_REGISTRY"
        node: dict[str, Any] = {"url": url, "auth": env("CHARTSHIP_REGISTRY_AUTH", environ), "plain_http": http}
        region = aws_region(environ)
        if region:
            node["region"] = region

        def where(key: str) -> str:
            return "CHARTSHIP_REGISTRY_AUTH" if key == "auth" else origin

        return configfile.parse_target(origin, node, where)
    target = cfg.target(name)
    return replace(target, plain_http=True) if http else target


def aws_region(environ: Mapping[str, str] | None = None) -> str:
    """AWS_REGION, else AWS_DEFAULT_REGION ('' when neither is set)."""
    return env("AWS_REGION", environ) or env("AWS_DEFAULT_REGION", environ)
