from __future__ import annotations

from pathlib import Path

import pytest

from chartship import config
from chartship.errors import VersionError
from chartship.version import semver
from chartship.version import tags as tagsmod


def tags_for(tmp_path: Path, version_tpl: str | None, latest_tpl: str | None, v: str = "1.4.0-rc.2+b.7",
             ctx: tagsmod.TagContext | None = None) -> dict[str, str]:
    d = tmp_path / "tag-templates"
    d.mkdir(exist_ok=True)
    for name, tpl in (("version", version_tpl), ("latest", latest_tpl)):
        if tpl is not None:
            (d / f"{name}-tag-template").write_text(tpl + "\n")
    cfg = config.load(tmp_path, environ={})
    return tagsmod.tags(cfg, semver.parse(v), ctx or tagsmod.TagContext())


def test_default_templates(tmp_path: Path) -> None:
    assert tags_for(tmp_path, None, None) == {"version": "1.4.0-rc.2_b.7", "latest": "latest"}


def test_all_placeholders(tmp_path: Path) -> None:
    ctx = tagsmod.TagContext(branch="feature/X", run="42", sha="abc1234")
    tags = tags_for(tmp_path, "{MAJOR}.{MINOR}.{PATCH}-{PRERELEASE}-{BRANCH}-{RUN}-{SHA}", "latest-{MAJOR}", ctx=ctx)
    assert tags == {"version": "1.4.0-rc.2-feature-x-42-abc1234", "latest": "latest-1"}


@pytest.mark.parametrize(
    ("tpl", "message"),
    [
        ("{VERSIO}", "tag-templates/version-tag-template: unknown placeholder {VERSIO}"),
        ("{VERSION", "unbalanced brace"),
        ("v/{VERSION}", "is not a valid OCI tag"),
        (".{VERSION}", "is not a valid OCI tag"),
        ("{RUN}", "{RUN} has no value here; pass --run or set GITHUB_RUN_NUMBER"),
    ],
)
def test_template_errors(tmp_path: Path, tpl: str, message: str) -> None:
    with pytest.raises(VersionError) as err:
        tags_for(tmp_path, tpl, None)
    assert message in str(err.value)


def test_prerelease_placeholder_needs_a_prerelease(tmp_path: Path) -> None:
    with pytest.raises(VersionError, match="no prerelease part"):
        tags_for(tmp_path, "{PRERELEASE}", None, v="1.0.0")


def test_empty_template_file(tmp_path: Path) -> None:
    with pytest.raises(VersionError, match="latest-tag-template: is empty"):
        tags_for(tmp_path, None, "")
