"""yamlio.read_file (libyaml with chartship's YAML 1.2 rules, for callers that only read) gives the data
and the errors of yamlio.load_file (ruamel's round-trip reader) on every text; the fast reader reads real
Chart.yaml files itself and declines whatever it could get wrong."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from chartship import yamlio, yamllimits
from chartship.charts import chart as chartmod
from chartship.errors import ChartError


def same(fast: Any, slow: Any) -> bool:
    """Equal values of the same kinds (a bool is not an int, a str not a number), key order included."""
    if isinstance(slow, dict):
        return (isinstance(fast, dict) and len(fast) == len(slow)
                and all(same(a, b) and same(fast[a], slow[b]) for a, b in zip(fast, slow, strict=True)))
    if isinstance(slow, list):
        return isinstance(fast, list) and len(fast) == len(slow) and all(map(same, fast, slow))
    for kind in (bool, int, float, str):
        if isinstance(slow, kind):
            return isinstance(fast, kind) and (kind is bool or not isinstance(fast, bool)) and fast == slow
    return type(fast) is type(slow) and (fast == slow or repr(fast) == repr(slow))  # ruamel's TaggedScalar


def both(path: Path) -> tuple[Any, Any]:
    """(read_file's outcome, load_file's outcome): the data, or the error's message."""
    outcomes = []
    for reader in (yamlio.read_file, yamlio.load_file):
        try:
            outcomes.append(reader(path, "charts/x/Chart.yaml", ChartError)[1])
        except ChartError as exc:
            outcomes.append(f"error: {exc}")
    return outcomes[0], outcomes[1]


def check_text(tmp_path: Path, text: str | bytes) -> None:
    path = tmp_path / "Chart.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    fast, slow = both(path)
    if isinstance(slow, str) and slow.startswith("error: "):
        assert fast == slow, text
    else:
        assert same(fast, slow), f"{fast!r} vs {slow!r} for {text!r}"


CHARTS = [
    "apiVersion: v2\nname: web\nversion: 1.2.3\nappVersion: \"1.16.0\"\ntype: application\n",
    "# comment\napiVersion: v2\nname: web  # trailing\ndescription: |\n  text: with a colon\n  # not a comment\n"
    "version: 0.1.0-rc.1+build.5\nkeywords: [a, b, 'c d']\nmaintainers:\n  - name: x\n    email: x@example.com\n",
    "apiVersion: v2\nname: umbrella\nversion: 2.0.0\ndependencies:\n- name: sub\n  version: ~1.2\n"
    "  repository: file://../sub\n  condition: sub.enabled\n  tags: [a]\n  import-values:\n    - child: x\n      parent: y\n",
    "apiVersion: v2\r\nname: crlf\r\nversion: 1.0.0\r\nannotations:\r\n  x/y: \"z\"\r\n",
    "apiVersion: v2\nname: kinds\nversion: 1.0\nappVersion: 10\ndeprecated: true\nkubeVersion: '>=1.25'\n"
    "annotations: {a: yes, b: on, c: null, d: ~, e: -5, f: +3, g: 0.5, h: 'true', i: \"1e3\"}\nicon:\n",
    "apiVersion: v2\nname: folded\nversion: 1.0.0\ndescription: >-\n  one\n  two\n\n  three\nhome: http://x/y?a=b#c\n",
    "---\napiVersion: v2\nname: marker\nversion: 1.0.0\n",
    "{apiVersion: v2, name: flow, version: 1.0.0}\n",
    # what the fast reader leaves to ruamel: 1.1/1.2 differences, tags, anchors, merge keys, dates, numbers
    "apiVersion: v2\nname: a\nversion: 1.0.0\nx: 0o17\ny: 017\nz: 0x1F\nw: 1_000\nv: 1e3\nu: .inf\nt: 2020-01-01\n",
    "apiVersion: v2\nname: a\nversion: !!str 1.0\nx: !!int '5'\ny: ! 5\n",
    "apiVersion: v2\nname: a\nversion: &v 1.0.0\nappVersion: *v\nbase: &b {k: 1}\nm:\n  <<: *b\n  j: 2\n",
    "apiVersion: v2\nname: a\nversion: 1.0.0\nm:\n  <<: {k: 1}\n",
    "---\napiVersion: v2\nname: marker\nversion: 1.0.0\n...\n",  # libyaml takes a second ... that ruamel refuses
    "%YAML 1.1\n---\napiVersion: v2\nname: a\nversion: 1.0.0\nx: yes\n",
    "apiVersion: v2\nname: a\nversion: 1.0.0\nx: 1:20\ny: =\n? [complex, key]\n: value\n",
    "",
    "# only a comment\n",
    "- a\n- b\n",
    "just text\n",
]

BROKEN = [
    "apiVersion: v2\nname: a\nversion: 1.0.0\nname: b\n",  # duplicate key
    "apiVersion: v2\nname: a\n  version: 1.0.0\n",
    "apiVersion: v2\nname: [a\nversion: 1.0.0\n",
    "apiVersion: v2\n\tname: a\n",
    "a: b: c\n",
    "a: 'unterminated\n",
    "a: 1\n---\nb: 2\n",
    "a: *nowhere\n",
    "a: !!binary x\n",
    "a: " + "[" * (yamllimits.MAX_DEPTH + 1) + "]" * (yamllimits.MAX_DEPTH + 1) + "\n",
    "a: &a [x, x]\n" + "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                               for p, c in zip("abcdefg", "bcdefgh", strict=True)),
    "a: &a [*a]\n",
    "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 400)) + "  " * 400 + "v: 1\n",
]


@pytest.mark.parametrize("text", CHARTS + BROKEN)
def test_the_fast_read_gives_the_round_trip_data_or_error(tmp_path: Path, text: str) -> None:
    check_text(tmp_path, text)


def test_bytes_the_readers_refuse_alike(tmp_path: Path) -> None:
    check_text(tmp_path, b"apiVersion: v2\nname: \xff\n")
    check_text(tmp_path, b"a: 1\n" + b"#" * yamllimits.MAX_BYTES)
    path = tmp_path / "missing.yaml"
    assert both(path)[0] == both(path)[1] == "error: charts/x/Chart.yaml: file not found"


def test_the_fast_reader_reads_real_charts_itself(project_root: Path) -> None:
    """Not declined: the re-run path does not fall back to ruamel for the charts of this repository."""
    paths = sorted(project_root.glob("charts/*/Chart.yaml"))
    assert paths
    for path in paths:
        text = path.read_text()
        assert same(yamlio._fast(text), yamlio.loads(text, str(path), ChartError)), path
    for text in CHARTS[:8]:
        assert same(yamlio._fast(text), yamlio.loads(text, "x", ChartError)), text


@pytest.mark.parametrize("text", CHARTS[8:15] + BROKEN[:1])
def test_what_could_differ_is_declined(text: str) -> None:
    with pytest.raises(yamlio._Decline):
        yamlio._fast(text)


PIECES = [" ", "  ", "-", "- ", ":", ": ", "#", " #", "'", '"', "[", "]", "{", "}", ",", "|", ">", "\n", "\n  ",
          "---", "&a", "*a", "!t", "!!str ", "1.2", "1.2.3", "0o7", "07", "1e5", "yes", "true", "~", "x: y", "\\",
          "|-", "? ", "<<: ", "2020-01-02", "=", "%"]


@pytest.mark.parametrize("seed", range(3))
def test_mutated_charts_read_alike(tmp_path: Path, seed: int, project_root: Path) -> None:
    """Random edits of real and made-up Chart.yaml files: both readers give the same data or the same error."""
    rnd = random.Random(seed)
    texts = [*CHARTS[:8], *(p.read_text() for p in sorted(project_root.glob("charts/*/Chart.yaml")))]
    for _ in range(300):
        lines = rnd.choice(texts).split("\n")
        for _edit in range(rnd.randint(1, 3)):
            i = rnd.randrange(len(lines))
            op = rnd.random()
            if op < 0.4:
                j = rnd.randint(0, len(lines[i]))
                lines[i] = lines[i][:j] + rnd.choice(PIECES) + lines[i][j:]
            elif op < 0.6 and lines[i]:
                j = rnd.randrange(len(lines[i]))
                lines[i] = lines[i][:j] + lines[i][j + 1 :]
            elif op < 0.75 and len(lines) > 1:
                del lines[i]
            elif op < 0.9:
                lines.insert(i, rnd.choice(lines))
            else:
                lines[i] = " " * rnd.randint(0, 5) + lines[i].lstrip()
        check_text(tmp_path, "\n".join(lines))


def test_read_chart_errors_keep_their_lines(tmp_path: Path) -> None:
    d = tmp_path / "charts" / "web"
    d.mkdir(parents=True)
    (d / "Chart.yaml").write_text("apiVersion: v2\nname: web\n\nversion:\n  major: 1\n")
    with pytest.raises(ChartError, match=r"^charts/web/Chart.yaml:4: 'version' must be a string$"):
        chartmod.read_chart(d, tmp_path)
    (d / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 1.0.0\nversion: 1.0.1\n")
    with pytest.raises(ChartError, match=r"^charts/web/Chart.yaml:4:1: invalid YAML \(found duplicate key"):
        chartmod.read_chart(d, tmp_path)
