"""Typed errors. Each carries a one-line message a user can act on.

They are raised where the problem is found and turned into a message and an
exit code in one place: :func:`chartship.tasks.common.edge`.
"""

from __future__ import annotations


class ChartshipError(Exception):
    """A problem a user can fix. ``str(err)`` is a single line."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split("\n")))


class ConfigError(ChartshipError):
    """invoke.yaml, an environment variable or a flag holds a bad value."""


class VersionError(ChartshipError):
    """The version file, a version string or a tag template is wrong."""


class ChartError(ChartshipError):
    """A chart is missing, unknown or has a broken Chart.yaml."""


class ToolError(ChartshipError):
    """An external program is missing, too old, or failed."""


class CheckFailed(ChartshipError):
    """A check found problems; they were already reported."""

    exit_code = 1


class RegistryError(ChartshipError):
    """An OCI registry refused, failed, or could not be reached."""


class PublishRefused(ChartshipError):
    """Publishing was refused for at least one chart; the results were reported."""

    exit_code = 1


class ReleaseError(ChartshipError):
    """A helm release operation in a cluster failed."""

    exit_code = 1


_OS_HINTS = {28: "free some disk space (or set TMPDIR to a folder with room) and run again",
             13: "check the permissions of that path", 1: "check the permissions of that path",
             30: "it is on a read-only file system; run where chartship can write",
             122: "the disk quota is exceeded; free some space and run again",
             24: "too many open files; raise the limit (ulimit -n) or use fewer --jobs"}


def os_error_line(exc: OSError) -> str:
    """One line for an operating-system error: the path(s), what went wrong, what to do."""
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    what = exc.strerror or str(exc) or type(exc).__name__
    hint = _OS_HINTS.get(exc.errno or 0, "fix the cause and run again")
    return f"{paths + ': ' if paths else ''}{what}; {hint}"
