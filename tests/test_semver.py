from __future__ import annotations

import pytest

from chartship.errors import VersionError
from chartship.version import semver


@pytest.mark.parametrize("text", ["0.1.0", "1.0.0-beta.213", "1.0.0-rc.1+build.5", "10.20.30", "1.0.0-0A.is.legal", "1.0.0+001"])
def test_parse_valid_round_trips(text: str) -> None:
    assert str(semver.parse(text)) == text


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "empty"),
        ("1.0", "MAJOR.MINOR.PATCH"),
        ("01.0.0", "leading zeros"),
        ("1.02.0", "leading zeros"),
        ("1.0.0-beta.01", "leading zero"),
        ("v1.0.0", "drop the leading 'v'"),
        (" 1.0.0", "white space"),
        ("1.0.0 1.0.1", "white space"),
        ("1.0.0-", "prerelease"),
        ("1.0.0-a..b", "prerelease"),
        ("1.0.0+", "build metadata"),
    ],
)
def test_parse_invalid_says_why(text: str, hint: str) -> None:
    with pytest.raises(VersionError) as err:
        semver.parse(text, "version")
    assert hint in str(err.value)
    assert "\n" not in str(err.value)


def test_precedence_follows_semver_org() -> None:
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
               "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"]
    parsed = [semver.parse(v) for v in ordered]
    assert sorted(reversed(parsed)) == parsed
    assert semver.parse("1.0.0+a").same_precedence(semver.parse("1.0.0+b"))


@pytest.mark.parametrize(
    ("start", "part", "preid", "expected"),
    [
        ("1.0.0-beta.213", "prerelease", None, "1.0.0-beta.214"),
        ("1.0.0-beta.9", "prerelease", None, "1.0.0-beta.10"),
        ("1.0.0-rc", "prerelease", None, "1.0.0-rc.1"),
        ("1.0.0-beta.3.x", "prerelease", None, "1.0.0-beta.4.x"),
        ("1.4.0", "prerelease", None, "1.4.1-rc.1"),
        ("1.4.0", "prerelease", "beta", "1.4.1-beta.1"),
        ("1.0.0-beta.5", "prerelease", "rc", "1.0.0-rc.1"),
        ("1.2.3-rc.1+b7", "patch", None, "1.2.4"),
        ("1.2.3", "minor", None, "1.3.0"),
        ("1.2.3-beta.1", "major", None, "2.0.0"),
    ],
)
def test_bump(start: str, part: semver.Part, preid: str | None, expected: str) -> None:
    new = semver.bump(semver.parse(start), part, preid)
    assert str(new) == expected
    assert new > semver.parse(start)


def test_prerelease_label_that_sorts_lower_is_refused() -> None:
    with pytest.raises(VersionError, match="sort below"):
        semver.bump(semver.parse("1.0.0-rc.2"), "prerelease", "beta")


@pytest.mark.parametrize(
    ("branch", "ident"),
    [
        ("feature/x", "feature-x"),
        ("refs/heads/Feature/JIRA-12_fix", "feature-jira-12-fix"),
        ("dependabot/npm_and_yarn/lodash-4.17.21", "dependabot-npm-and-yarn-lodash-4-17-21"),
        ("007", "branch-007"),
        ("--weird--", "weird"),
    ],
)
def test_sanitize_branch(branch: str, ident: str) -> None:
    assert semver.sanitize_branch(branch) == ident


def test_dev_version_is_valid_semver() -> None:
    dev = semver.dev_version(semver.parse("1.4.0"), "feature/x", 42)
    assert str(dev) == "1.4.0-feature-x.42"
    assert str(semver.parse(str(dev))) == str(dev)
    long = semver.dev_version(semver.parse("1.0.0-beta.3+meta"), "a/" + "b" * 200, 7)
    assert str(long).startswith("1.0.0-beta.3.a-bbb") and "+" not in str(long)
    assert semver.is_oci_tag(semver.to_oci_tag(str(long)))
    with pytest.raises(VersionError):
        semver.sanitize_branch("///")


def test_oci_tag_mapping_matches_helm() -> None:
    assert semver.to_oci_tag("1.0.0+build.5") == "1.0.0_build.5"
    assert semver.from_oci_tag("1.0.0_build.5") == "1.0.0+build.5"
    assert semver.is_oci_tag("1.0.0_build.5")
    assert not semver.is_oci_tag("1.0.0+build.5")
    assert not semver.is_oci_tag("x" * 129)
    assert semver.strip_tag_prefix("refs/tags/v1.4.0") == "1.4.0"
    assert semver.strip_tag_prefix("version-1") == "version-1"
