"""kbquery serve over HTTP (FastAPI's TestClient): the same determinations and the same refusals
as the command line, by path, and never a 5xx for what a client sends."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

with warnings.catch_warnings():  # Starlette's advice to install another HTTP client for its TestClient
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from conftest import ROOT, case_files, load_case_file
from kbquery import decide
from kbquery.cli import main
from kbquery.knowledge import knowledge_base, policies
from kbquery.service import create_app

EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
EXAMPLE = (ROOT / "examples" / "initial-diagnostic.json").read_bytes()


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(max_body=200_000)) as c:  # the startup decides a case of each policy
        yield c


def cli_json(data: bytes, *args: str) -> tuple[int, dict | list[str]]:
    result = CliRunner().invoke(main, ["-", "--format", "json", *args], input=data)
    if result.exit_code:
        return result.exit_code, result.stderr.splitlines()
    return 0, json.loads(result.stdout)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_decide_answers_what_the_command_line_prints(client, path):
    data = path.read_bytes()
    response = client.post("/v1/decide", content=data)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json() == cli_json(data)[1]


def test_a_suite_case_file_is_decided_under_its_own_readings(client):
    files = [p for p in case_files() if load_case_file(p).get("readings")]
    assert files
    data = files[0].read_bytes()
    assert client.post("/v1/decide", content=data).json() == cli_json(data)[1]


def test_policy_and_reading_in_the_query(client):
    data = EXAMPLE
    for policy in policies():
        answer = client.post("/v1/decide", params={"policy": policy}, content=data).json()
        assert answer["policy"]["id"] == policy and answer == cli_json(data, "--policy", policy)[1]
    kb = knowledge_base()
    rid, reading = next((r.id, r) for r in kb.readings.values() if len(r.options) > 1)
    other = next(c for c in reading.options if c != reading.default)
    answer = client.post("/v1/decide", params={"reading": f"{rid}={other}"}, content=data).json()
    assert answer == cli_json(data, "--reading", f"{rid}={other}")[1]
    bad = client.post("/v1/decide", params={"reading": f"{rid}=no_such_choice"}, content=data)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "?reading"
    unknown = client.post("/v1/decide", params={"policy": "NO.SUCH"}, content=data)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["path"] == "?policy"


def errors(response) -> list[str]:
    assert 400 <= response.status_code < 500, response.text
    return [f"{e['path'] or '(case)'}: {e['message']}" for e in response.json()["errors"]]


HOSTILE = {
    "unknown key": EXAMPLE.replace(b'"radiculopathy": false', b'"radiculopaty": false'),
    "duplicate key": EXAMPLE.replace(b'"scale": "NRS"', b'"scale": "NRS", "scale": "VAS"'),
    "NaN": EXAMPLE.replace(b'"score": 8', b'"score": NaN'),
    "lone surrogate": EXAMPLE.replace(b'"scale": "NRS"', b'"scale": "NRS\\ud800"'),
    "malformed": EXAMPLE[:-10],
    "empty": b"",
    "not UTF-8": EXAMPLE.replace(b'"NRS"', b'"NR\xe9"'),
    "wrong type": EXAMPLE.replace(b'"score": 8', b'"score": "8"'),
    "dates out of order": EXAMPLE.replace(b'"2025-09-15"', b'"2026-09-15"'),
    "not an object": b"[1, 2]",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_an_invalid_body_is_422_with_the_command_lines_errors(client, name):
    data = HOSTILE[name]
    response = client.post("/v1/decide", content=data)
    assert response.status_code == 422
    status, lines = cli_json(data)
    assert status == 2
    assert [f"invalid case: {line}" for line in errors(response)] == lines


def test_errors_are_capped_and_counted(client):
    case = json.loads(EXAMPLE)
    case["request"].update({f"x{i}": 1 for i in range(40)})
    body = client.post("/v1/decide", content=json.dumps(case)).json()
    assert len(body["errors"]) == 20 and body["more"] == 20 and body["case_id"] == case["case_id"]


def test_an_oversized_body_is_413_unread(client):
    big = b'{"case_id": "' + b"x" * 300_000 + b'"}'
    assert client.post("/v1/decide", content=big).status_code == 413

    def chunks():  # no Content-Length: counted as it streams in
        for _ in range(30):
            yield b" " * 10_000

    response = client.post("/v1/decide", content=chunks())
    assert response.status_code == 413 and "limit" in response.json()["errors"][0]["message"]


def test_explain_formats(client):
    graph = client.post("/v1/explain", content=EXAMPLE)
    assert graph.status_code == 200 and graph.json()["determination"] == cli_json(EXAMPLE)[1]
    assert "why_not" in graph.json()
    svg = client.post("/v1/explain", params={"format": "svg"}, content=EXAMPLE)
    assert svg.headers["content-type"] == "image/svg+xml" and svg.content.lstrip().startswith((b"<?xml", b"<svg"))
    page = client.post("/v1/explain", params={"format": "html"}, content=EXAMPLE)
    assert page.headers["content-type"].startswith("text/html") and b"<html" in page.content[:500].lower()
    refused = client.post("/v1/explain", params={"format": "pdf"}, content=EXAMPLE)
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "?format"
    assert client.post("/v1/explain", content=HOSTILE["NaN"]).status_code == 422


def test_policies_schema_health_and_documentation(client):
    listed = client.get("/v1/policies").json()
    assert [p["id"] for p in listed] == policies() and sum(p["default"] for p in listed) == 1
    for policy in policies():
        assert client.get(f"/v1/policies/{policy}/schema").json() == knowledge_base(policy).schema
    assert client.get("/v1/policies/NO.SUCH/schema").status_code == 404
    assert client.get("/healthz").json() == {"status": "ok", "policies": policies()}
    spec = client.get("/openapi.json").json()
    assert {"/v1/decide", "/v1/explain", "/v1/policies", "/v1/policies/{policy}/schema", "/healthz"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_a_case_never_becomes_program_text(client):
    """Text that would be ASP if pasted into the program is only ever a string value."""
    case = json.loads(EXAMPLE)
    case["pain"]["scale"] = 'N"). d(x). #show x("'
    case["case_id"] = "a. b :- c."
    answer = client.post("/v1/decide", content=json.dumps(case)).json()
    assert answer == decide(case).to_dict() and answer["case_id"] == case["case_id"]


def test_the_command_binds_to_loopback_by_default():
    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    assert "127.0.0.1" in help_text and "Example:" in help_text


@pytest.mark.parametrize("route", ["/fhir/QuestionnaireResponse/$decide", "/fhir/Questionnaire/$next-question",
                                   "/cds-services/order-sign-" + knowledge_base().id])
@pytest.mark.parametrize("body", [b"[]", b"{}", b'{"resourceType": "Parameters", "parameter": []}', b"null",
                                  b'{"item": "x", "resourceType": "QuestionnaireResponse"}', b"NaN", b"\xff"])
def test_the_fhir_and_hooks_routes_refuse_what_they_cannot_read_with_a_4xx(client, route, body):
    response = client.post(route, content=body)
    assert 400 <= response.status_code < 500 and response.json()["errors"], (route, body, response.text)


def test_kbquery_serve_listens_on_loopback_and_answers():
    """The command itself: a process on 127.0.0.1 and a free port, stopped after one decision."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [str(Path(sys.executable).with_name("kbquery")), "serve", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert json.loads(r.read())["status"] == "ok"
                    break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "kbquery serve did not answer within 60 s"
                time.sleep(0.2)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/decide", data=EXAMPLE, method="POST")
        with urllib.request.urlopen(request, timeout=30) as r:
            assert json.loads(r.read()) == cli_json(EXAMPLE)[1]
        listening = [line.split()[1] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                     if line.split()[3] == "0A"]  # the sockets in LISTEN, as address:port in hex
        assert f"0100007F:{port:04X}" in listening  # 127.0.0.1 only
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=15) == 0
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            raise
