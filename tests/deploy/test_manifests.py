"""The Procfile, deploy/compose.yaml and deploy/k8s run exactly the commands the stack
runs (medfollow/stack.py COMMANDS), with settings medfollow accepts. They need no Docker
or Kubernetes here: the files are parsed and compared."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from medfollow.settings import Settings
from medfollow.stack import COMMANDS, RASA_PRELUDE, Stack
from tests.support import ROOT

DEPLOY = ROOT / "deploy"
MIGRATE = ["medfollow", "db", "upgrade"]
Steps = list[list[str]]


_SHELL_VAR = re.compile(r"\$\(([A-Z_]+)\)|\$([A-Z_]+)\b")


def braced(match: re.Match[str]) -> str:
    return "${" + (match[1] or match[2]) + "}"


def normal(argv: list[str]) -> list[str]:
    """One spelling for every file: ${NAME} for a variable, the program without its path."""
    out = [_SHELL_VAR.sub(braced, arg) for arg in argv]
    if out and out[0] == "exec":
        out = out[1:]
    return [Path(out[0]).name, *out[1:]] if out else out


def shell_steps(line: str) -> Steps:
    """A shell command line as its `&&`-joined commands."""
    steps: Steps = [[]]
    for token in shlex.split(line):
        if token == "&&":
            steps.append([])
        else:
            steps[-1].append(token)
    return [normal(step) for step in steps]


def env_file(path: Path) -> dict[str, str]:
    pairs = (ln.split("=", 1) for ln in path.read_text().splitlines() if "=" in ln)
    return {k.strip(): v.strip() for k, v in pairs if not k.startswith("#")}


def variables(steps: Steps) -> set[str]:
    return {v for step in steps for arg in step for v in re.findall(r"\$\{([A-Z_]+)\}", arg)}


def kind_of(name: str) -> str:
    return re.sub(r"-\d+$", "", name)


def procfile() -> dict[str, Steps]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    entries = (ln.split(":", 1) for ln in lines if ln.strip() and not ln.startswith("#"))
    return {name.strip(): shell_steps(cmd) for name, cmd in entries}


def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return doc


def compose_steps(service: dict[str, Any]) -> Steps:
    command = [c.replace("$$", "$") for c in service["command"]]
    if command[:2] == ["sh", "-c"]:
        return shell_steps(command[2])
    return [normal(command)]


def k8s_docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def k8s_doc(kind: str, name: str) -> dict[str, Any]:
    return next(d for d in k8s_docs() if d["kind"] == kind and d["metadata"]["name"] == name)


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def k8s_workloads() -> list[tuple[str, dict[str, Any], bool]]:
    """(kind of process, container, is an init container) for every pod template."""
    found = []
    for doc in k8s_docs():
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            spec = pod_spec(doc)
            found += [(c["name"], c, False) for c in spec["containers"]]
            found += [(c["name"], c, True) for c in spec.get("initContainers", [])]
    return found


def k8s_steps(container: dict[str, Any]) -> Steps:
    return [normal([*container["command"], *container.get("args", [])])]


def k8s_env(container: dict[str, Any]) -> set[str]:
    config = k8s_doc("ConfigMap", "medfollow-settings")["data"]
    names = {e["name"] for e in container.get("env", [])}
    from_maps = [f["configMapRef"]["name"] for f in container.get("envFrom", [])]
    return names | (set(config) if "medfollow-settings" in from_maps else set())


def expected(kind: str) -> Steps:
    return [list(RASA_PRELUDE), list(COMMANDS[kind])] if kind == "rasa" else [list(COMMANDS[kind])]


def test_it_has_a_procfile_honcho_accepts_with_every_process_type() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "honcho"), "-e", "deploy/honcho.env", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Valid procfile detected (web, worker, scheduler, actions, rasa)" in done.stderr


def test_it_runs_the_stacks_commands_in_the_procfile() -> None:
    entries = procfile()
    assert set(entries) == set(COMMANDS)
    for kind, steps in entries.items():
        assert steps == expected(kind), kind
    given = set(env_file(DEPLOY / "honcho.env")) | {"RASA_TOKEN", "RASA_VENV", "RASA_MODEL"}
    assert variables([s for steps in entries.values() for s in steps]) <= given


def test_it_runs_the_stacks_commands_in_compose() -> None:
    services = compose()["services"]
    settings = env_file(DEPLOY / "settings.env")
    kinds = {kind_of(name) for name in services} - {"postgres", "redis", "migrate"}
    assert kinds == set(COMMANDS)
    for name, service in services.items():
        if kind_of(name) in COMMANDS:
            steps = compose_steps(service)
            assert steps == expected(kind_of(name)), name
            given = set(settings) | set(service.get("environment") or {})
            assert variables(steps) <= given, name
    assert compose_steps(services["migrate"]) == [MIGRATE]


def test_it_runs_the_stacks_commands_in_kubernetes() -> None:
    workloads = k8s_workloads()
    assert {name for name, _, init in workloads if not init} == {*COMMANDS, "migrate"}
    for name, container, init in workloads:
        steps = k8s_steps(container)
        if init:
            assert (name, steps) == ("endpoints", [list(RASA_PRELUDE)])
        elif name == "migrate":
            assert steps == [MIGRATE]
        else:
            assert steps == [list(COMMANDS[name])], name
        assert variables(steps) <= k8s_env(container), name


def test_it_migrates_with_the_command_make_run_uses() -> None:
    assert ".venv/bin/medfollow db upgrade" in (ROOT / "scripts/run.sh").read_text()


def test_it_builds_both_images_with_the_scripts_the_tests_use() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for script in ("setup_app.sh", "setup_rasa.sh", "train_rasa.sh"):
        assert f"bash scripts/{script}" in dockerfile
    images = {c["image"] for _, c, _ in k8s_workloads()}
    images |= {s["image"] for s in compose()["services"].values() if "medfollow" in s["image"]}
    assert images == {"medfollow:app", "medfollow:rasa"}


def k8s_settings() -> Settings:
    """What medfollow reads in a pod (the secret files replaced by values)."""
    data = k8s_doc("ConfigMap", "medfollow-settings")["data"]
    env = {k: v for k, v in data.items() if not k.endswith("_FILE")}
    return Settings.from_env(env)


def test_it_lists_one_rasa_url_per_stable_rasa_pod_name() -> None:
    rasa = k8s_doc("StatefulSet", "rasa")
    service = k8s_doc("Service", rasa["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"
    settings = k8s_settings()
    port = int(k8s_doc("ConfigMap", "medfollow-settings")["data"]["RASA_PORT"])
    names = [f"http://rasa-{n}.rasa:{port}" for n in range(rasa["spec"]["replicas"])]
    assert list(settings.rasa_urls) == names
    actions = urlsplit(settings.action_server_url)
    assert (actions.hostname, actions.port) == ("actions", settings.action_server_port)
    composed = Settings.from_env(
        {k: v for k, v in env_file(DEPLOY / "settings.env").items() if not k.endswith("_FILE")}
    )
    rasa_services = sorted(n for n in compose()["services"] if kind_of(n) == "rasa")
    assert [urlsplit(u).hostname for u in composed.rasa_urls] == rasa_services


def test_it_mounts_every_secret_file_the_settings_point_at() -> None:
    data = k8s_doc("ConfigMap", "medfollow-settings")["data"]
    keys = set(k8s_doc("Secret", "medfollow-secrets")["stringData"])
    pointed = {Path(v).name for k, v in data.items() if k.endswith("_FILE")}
    assert pointed == keys
    for name, container, _ in k8s_workloads():
        if "DATABASE_URL_FILE" in k8s_env(container) and name != "rasa":
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/run/secrets/medfollow" in mounts, name
    composed = env_file(DEPLOY / "settings.env")
    secrets = set(compose()["secrets"])
    assert {Path(v).name for k, v in composed.items() if k.endswith("_FILE")} <= secrets


@pytest.mark.parametrize("rasa_servers", [1, 2])
def test_it_starts_each_process_with_its_command_from_the_table(
    tmp_path: Path, rasa_servers: int
) -> None:
    urls = ",".join(f"http://127.0.0.1:{5005 + n}" for n in range(rasa_servers))
    settings = Settings.from_env({"MEDFOLLOW_VAR": str(tmp_path), "RASA_URLS": urls})
    stack = Stack(settings, {}, tmp_path / "rasa-venv", tmp_path / "model.tar.gz", action_servers=2)
    procs = stack.plan()
    assert sorted(kind_of(p.name) for p in procs) == sorted(
        ["web", "worker", "worker", "scheduler", "actions", "actions"] + ["rasa"] * rasa_servers
    )
    for proc in procs:
        template = COMMANDS[kind_of(proc.name)]
        regex = [".+".join(map(re.escape, re.split(r"\$\{[A-Z_]+\}", a))) for a in template[1:]]
        assert Path(proc.argv[0]).name == template[0]
        assert all(re.fullmatch(r, a) for r, a in zip(regex, proc.argv[1:], strict=True)), proc
    rasa = [p for p in procs if kind_of(p.name) == "rasa"]
    assert [p.argv[p.argv.index("-p") + 1] for p in rasa] == [
        str(5005 + n) for n in range(rasa_servers)
    ]
