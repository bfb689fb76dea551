"""The helm wrapper's error classes and the one summariser, on output of real helm runs: a push to a
closed port, a registry that refuses or fails, broken charts, an umbrella whose subchart schema fails,
a lock file out of date, no cluster."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartship.registry import retry
from chartship.tools import helm, registry_server
from chartship.tools.summary import LIMIT, error_block, shorten, summarise
from tests.adversarial import faultproxy as fp
from tests.helpers.registry import Registry, free_port, start_registry

PASSWORD = "pw-for-tests"


@pytest.fixture(scope="module")
def h(helm_bin: Path, helm_env: dict[str, str]) -> helm.Helm:
    found = helm.Helm.locate(Path("/nonexistent"), {"HELM_BIN": str(helm_bin)})
    private = {k: v for k, v in helm_env.items() if k.startswith(("HELM_", "KUBECONFIG"))}
    return helm.Helm(found.path, found.source, found.version, env=private)


@pytest.fixture(scope="module")
def package(h: helm.Helm, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("pkg")
    h.run(["create", str(work / "demo")])
    return h.package(work / "demo", work, "demo").archive


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = start_registry(tmp_path_factory.mktemp("reg"), {"alice": PASSWORD})
    yield reg
    registry_server.stop(reg.state)


def umbrella(root: Path) -> Path:
    """An umbrella whose values break its subchart's values.schema.json (a port given as a string)."""
    chart = root / "umb"
    (chart / "charts" / "sub").mkdir(parents=True)
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: umb\nversion: 0.1.0\ndependencies:\n"
                                      "  - name: sub\n    version: 0.1.0\n    repository: file://charts/sub\n")
    (chart / "values.yaml").write_text('sub:\n  port: "eighty"\n')
    (chart / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
                                                 'data:\n  port: "{{ .Values.sub.port }}"\n')
    (chart / "charts/sub/Chart.yaml").write_text("apiVersion: v2\nname: sub\nversion: 0.1.0\n")
    (chart / "charts/sub/values.yaml").write_text("port: 80\n")
    (chart / "charts/sub/values.schema.json").write_text(
        '{"type": "object", "properties": {"port": {"type": "integer"}}, "required": ["port"]}')
    return chart


def test_push_to_a_closed_port_is_transient(h: helm.Helm, package: Path) -> None:
    with pytest.raises(helm.RegistryUnavailable) as caught:
        h.push(package, f"oci://127.0.0.1:{free_port()}/charts", plain_http=True, registry_config=None)
    assert caught.value.transient and retry.is_transient(caught.value)
    assert "connection refused" in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"helm push {package.name} to oci://127.0.0.1:")
    assert "failed: connection refused on HEAD /v2/charts/" in str(caught.value)


def test_the_retry_policy_repeats_a_transient_helm_push(h: helm.Helm, package: Path) -> None:
    waits: list[float] = []
    policy = retry.Policy(attempts=3, base=0.25, sleep=waits.append, jitter=lambda: 1.0)
    url = f"oci://127.0.0.1:{free_port()}/charts"
    with pytest.raises(helm.RegistryUnavailable):
        policy.call(lambda: h.push(package, url, plain_http=True, registry_config=None))
    assert waits == [0.25, 0.5]


def test_registry_answers_are_classified(h: helm.Helm, package: Path, registry: Registry, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    with pytest.raises(helm.RegistryAuthError) as denied:
        h.push(package, f"oci://{registry.host}/charts", plain_http=True, registry_config=config)
    assert not denied.value.transient
    with pytest.raises(helm.RegistryAuthError, match="401") as wrong:
        h.login(registry.host, "alice", "not-the-password", plain_http=True, registry_config=config)
    assert "not-the-password" not in str(wrong.value) + wrong.value.output
    h.login(registry.host, "alice", PASSWORD, plain_http=True, registry_config=config)
    pushed = h.push(package, f"oci://{registry.host}/charts", plain_http=True, registry_config=config)
    assert pushed.digest is not None and pushed.digest.startswith("sha256:")
    with pytest.raises(helm.NotFoundError, match="9.9.9: not found"):
        h.pull(f"oci://{registry.host}/charts/demo", "9.9.9", tmp_path / "out", plain_http=True, registry_config=config)
    pulled = h.pull(f"oci://{registry.host}/charts/demo", "0.1.0", tmp_path / "out", plain_http=True,
                    registry_config=config)
    assert pulled.archive.read_bytes() == package.read_bytes()


def test_a_failed_blob_upload_keeps_its_status(h: helm.Helm, package: Path, tmp_path: Path) -> None:
    """helm's line for a refused blob PUT is ~500 characters, most of it the upload URL's query string:
    the summary keeps the status at its end and shortens the URL."""
    empty = start_registry(tmp_path)  # no blob of the package is there yet, so helm uploads them
    proxy = fp.FaultProxy(empty.host, fp.when("PUT", "/blobs/uploads/", fp.status(502)))
    try:
        with pytest.raises(helm.RegistryUnavailable) as caught:
            h.push(package, f"oci://{proxy.host}/charts", plain_http=True, registry_config=None)
    finally:
        proxy.close()
        registry_server.stop(empty.state)
    raw = " ".join(error_block(caught.value.output))
    assert len(raw) > LIMIT and "?_state=" in raw
    assert caught.value.reason == summarise(caught.value.output) and len(caught.value.reason) <= LIMIT
    assert re.search(r"\b502:? Bad Gateway$", caught.value.reason)  # helm 3 "502 Bad Gateway", helm 4 "502: Bad Gateway"
    assert "_state=" not in caught.value.reason and f"http://{proxy.host}/v2/charts/demo/blobs/uploads/" in caught.value.reason


def test_lint_and_template_failures(h: helm.Helm, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    (broken / "templates").mkdir(parents=True)
    (broken / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 0.1.0\n")
    (broken / "templates" / "x.yaml").write_text("x: {{ .Values.a.b }\n")
    with pytest.raises(helm.LintFailed) as lint:
        h.lint(broken)
    assert any('unexpected "}" in operand' in e and "x.yaml:1" in e for e in lint.value.errors)
    with pytest.raises(helm.ChartInvalid) as rendered:
        h.template("r", broken, (), "default")
    assert not isinstance(rendered.value, helm.LintFailed)
    assert rendered.value.reason == 'Error: parse error at (broken/templates/x.yaml:1): unexpected "}" in operand'


def test_an_umbrella_schema_failure_names_the_subchart_and_key(h: helm.Helm, tmp_path: Path) -> None:
    chart = umbrella(tmp_path)
    with pytest.raises(helm.ChartInvalid) as rendered:
        h.template("r", chart, (), "default")
    reason = rendered.value.reason
    assert reason.startswith("Error: values don't meet the specifications of the schema(s) in the following chart(s):")
    assert " sub: - " in reason and "port" in reason and ("integer" in reason)
    with pytest.raises(helm.LintFailed) as lint:
        h.lint(chart)
    schema = [e for e in lint.value.errors if "schema" in e]
    assert len(schema) == 1 and " sub: - " in schema[0] and "port" in schema[0]


def test_a_long_umbrella_schema_failure_keeps_every_subchart_and_key(h: helm.Helm, tmp_path: Path) -> None:
    """Too many broken keys for one line as helm wrote it: the summary is written compactly and still names
    every subchart and every key (a nested one dotted), instead of losing its middle."""
    chart = umbrella(tmp_path)
    keys = [f"setting{n}" for n in range(10)]
    props = ", ".join(f'"{k}": {{"type": "integer", "minimum": 0}}' for k in keys)
    (chart / "charts/sub/values.schema.json").write_text(
        f'{{"type": "object", "properties": {{{props}, "deep": {{"type": "object", "properties": '
        '{"inner": {"type": "string", "maxLength": 2}}}}}')
    (chart / "charts/other").mkdir()
    (chart / "charts/other/Chart.yaml").write_text("apiVersion: v2\nname: other\nversion: 0.1.0\n")
    (chart / "charts/other/values.schema.json").write_text('{"type": "object", "properties": {"size": {"type": "integer"}}}')
    (chart / "Chart.yaml").write_text((chart / "Chart.yaml").read_text()
                                      + "  - name: other\n    version: 0.1.0\n    repository: file://charts/other\n")
    (chart / "values.yaml").write_text("sub:\n" + "".join(f"  {k}: -1\n" for k in keys)
                                       + "  deep:\n    inner: toolong\nother:\n  size: big\n")
    with pytest.raises(helm.ChartInvalid) as rendered:
        h.template("r", chart, (), "default")
    output, reason = rendered.value.output, rendered.value.reason
    assert len(" ".join(error_block(output))) > LIMIT  # helm's own block would not fit
    assert len(reason) <= LIMIT and "\n" not in reason
    assert reason.startswith("Error: values don't meet the schema of: "), reason
    # helm orders neither the charts nor the keys: each chart is named once, with its keys after it
    assert re.search(r"(: |; )sub: (setting\d|deep\.inner)\b", reason), reason
    assert re.search(r"(: |; )other: size\b", reason), reason
    for key in keys:
        assert re.search(rf"\b{key}\b", reason), (key, reason)
    assert re.search(r"\bdeep\.inner\b|\binner\b", reason), reason
    assert re.search(r" \(first: (sub|other): \S+: .+\)$", reason), reason  # one rule, as helm words it


def test_dependency_lock_out_of_date(h: helm.Helm, tmp_path: Path) -> None:
    chart = umbrella(tmp_path)
    h.run(["dependency", "update", str(chart)])
    (chart / "Chart.yaml").write_text((chart / "Chart.yaml").read_text().replace("version: 0.1.0\n    repo",
                                                                                 "version: 0.2.0\n    repo"))
    with pytest.raises(helm.DependencyError, match="umb/Chart.lock is out of date with umb/Chart.yaml"):
        h.dependency_build(chart, "umb")
    shutil.rmtree(chart / "charts" / "sub")
    (chart / "Chart.lock").unlink()
    with pytest.raises(helm.DependencyError, match=r"^umb: dependency build failed: .*; check the dependencies"):
        h.dependency_build(chart, "umb")


def test_no_cluster_is_cluster_unreachable(h: helm.Helm, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context:\n"
                          f"    cluster: c\n    user: u\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{free_port()}\n"
                          "users:\n- name: u\n  user: {}\n")
    with pytest.raises(helm.ClusterUnreachable) as caught:
        h.status("nothing", "default", env={"KUBECONFIG": str(kubeconfig)})
    assert "cluster unreachable" in caught.value.reason.lower() and "connection refused" in caught.value.reason


def test_a_helm_that_hangs_is_a_timeout(tmp_path: Path) -> None:
    slow = tmp_path / "helm"
    slow.write_text("#!/bin/sh\nexec sleep 60\n")
    slow.chmod(0o755)
    with pytest.raises(helm.HelmTimeout, match="did not finish within"):
        helm.Helm(slow, "test", "v3.17.2").run(["version"], timeout=0.5)


def test_summary_rules_on_plain_text() -> None:
    assert summarise("") == ""
    assert summarise("Saving 1 charts\nfatal: not a git repository\n") == "fatal: not a git repository"
    assert summarise("warning: x\nerror: first\nerror: second\n  at line 2\n\nhint: ignored\n") == "error: second at line 2"
    dump = "Error: UPGRADE FAILED: spec.selector: Invalid value: v1.LabelSelector{" + "x" * 500 + "}: field is immutable"
    assert shorten(dump) == "Error: UPGRADE FAILED: spec.selector: Invalid value: v1.LabelSelector{…}: field is immutable"
    long = "Error: " + "a" * 300 + " middle " + "z" * 300 + ": 503 Service Unavailable"
    cut = shorten(long)
    assert len(cut) <= LIMIT and cut.startswith("Error: aaa") and cut.endswith("zzz: 503 Service Unavailable")
