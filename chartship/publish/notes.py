"""Release notes read from a registry: what a target holds for a version (after a promotion, or for a
branch build), and which alias tags really point at it."""

from __future__ import annotations

from collections.abc import Sequence

from chartship.config import Config, Target
from chartship.registry import credentials, oci
from chartship.version import semver


def alias_candidates(cfg: Config, version: str) -> list[str]:
    """The alias tags a build of ``version`` may have moved: latest, and the dev alias when configured."""
    from chartship.tools import git
    from chartship.version import dev as devmod
    from chartship.version import tags as tagsmod

    v = semver.parse(version, "version")
    ctx = tagsmod.TagContext(branch=git.current_branch(cfg.root), run=git.run_number(), sha=git.short_sha(cfg.root))
    found = [tagsmod.tags(cfg, v, ctx)["latest"]]
    if ctx.branch:
        found.append(devmod.dev_alias(cfg, v, ctx) or "")
    return [t for t in dict.fromkeys(found) if t]


def alias_line(client: oci.Client, repo: str, base: str, digest: str | None, candidates: Sequence[str]) -> str:
    """The alias tags that point at ``digest`` now (looked up, not assumed)."""
    found = []
    for tag in candidates if digest else ():
        current = client.manifest(repo, tag)
        if current is not None and current.digest == digest:
            found.append(tag)
    return found_line(base, found)


def found_line(base: str, found: Sequence[str]) -> str:
    """The notes' line for the alias tags ``found`` pointing at a version."""
    if not found:
        return "- Alias tags: none point at this digest"
    return (f"- Alias tags: {', '.join(f'`{t}`' for t in found)} "
            f"(resolve with `invoke helm.resolve {base} {found[0]}`)")


def registry_notes(cfg: Config, target: Target, charts: Sequence[str], version: str) -> str:
    """Markdown for ``version`` of each chart as ``target`` holds it: reference, digest, aliases, commands."""
    semver.parse(version, "--version")
    tag = semver.to_oci_tag(version)
    plain = " --plain-http" if target.plain_http else ""
    lines = [f"# Release notes: {version} at {target.name}", ""]
    with credentials.session(cfg, target, login_helm=False) as s:
        for chart in charts:
            repo = s.repository(chart)
            base = f"oci://{target.host}/{repo}"
            manifest = s.client.manifest(repo, tag)
            lines += [f"## {chart} {version}", "", f"- OCI reference: `{base}:{tag}`"]
            if manifest is None:
                lines += [f"- Not published at target {target.name}: promote it (`invoke helm.promote {chart} {version} "
                          f"--from SOURCE --to {target.name}`) or push it", ""]
                continue
            lines += [f"- Digest: `{manifest.digest}`",
                      f"- Pinned reference: `{base}@{manifest.digest}`",
                      alias_line(s.client, repo, base, manifest.digest, alias_candidates(cfg, version)),
                      "", "```bash",
                      f"helm install {chart} {base} --version {version}{plain}",
                      f"helm pull {base} --version {version}{plain}",
                      "```", ""]
    return "\n".join(lines)
