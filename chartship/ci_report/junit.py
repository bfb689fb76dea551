"""JUnit XML in the shape CI systems read (GitHub test reporters, GitLab, Jenkins):
``<testsuites>`` of one ``<testsuite>`` per chart, one ``<testcase>`` per check; a failure
carries the one-line message. The file is written atomically."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from chartship.ci_report import FAIL, SKIP, Check
from chartship.errors import ConfigError
from chartship.secrets import redact


def render(task: str, checks: Sequence[Check]) -> str:
    root = ET.Element("testsuites", name=task, tests=str(len(checks)),
                      failures=str(sum(c.status == FAIL for c in checks)),
                      skipped=str(sum(c.status == SKIP for c in checks)))
    groups: dict[str, list[Check]] = {}
    for check in checks:
        groups.setdefault(check.group, []).append(check)
    for group, items in groups.items():
        suite = ET.SubElement(root, "testsuite", name=f"{task} {group}", tests=str(len(items)),
                              failures=str(sum(c.status == FAIL for c in items)),
                              skipped=str(sum(c.status == SKIP for c in items)))
        for check in items:
            case = ET.SubElement(suite, "testcase", classname=f"{task}.{group}", name=redact(check.name))
            if check.file:
                case.set("file", check.file)
                if check.line:
                    case.set("line", str(check.line))
            if check.status == FAIL:
                ET.SubElement(case, "failure", message=redact(check.message), type="error").text = redact(check.message)
            elif check.status == SKIP:
                ET.SubElement(case, "skipped", message=redact(check.message))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(path: Path, task: str, checks: Sequence[Check]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(render(task, checks), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"--junit {path}: cannot write ({exc.strerror or exc}); pick a writable path") from None
