"""CDS Hooks (Da Vinci CRD): discovery, order-sign and order-select, the card and the
coverage-information extension; never an automatic denial (42 CFR 422.566(d))."""

from __future__ import annotations

import copy
import json
import warnings

import pytest

from conftest import ROOT, case_files, load_case_file
from kbquery import decide, decide_many
from kbquery.cds_hooks import COVERAGE_INFORMATION, HOOKS, coverage, service_id
from kbquery.knowledge import DEFAULT_POLICY, knowledge_base, policies
from kbquery.questionnaire import canonical, response_from_case

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from kbquery.service import create_app

CPT = "http://www.ama-assn.org/go/cpt"
EXAMPLES = {p.stem: json.loads(p.read_text()) for p in sorted((ROOT / "examples").glob("*.json"))}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(warm_up=False)) as c:
        yield c


def order(code: str, date: str | None, oid: str = "sr-1") -> dict:
    sr = {"resourceType": "ServiceRequest", "id": oid, "status": "draft", "intent": "order",
          "subject": {"reference": "Patient/p1"}, "code": {"coding": [{"system": CPT, "code": code}]}}
    if date:
        sr["occurrenceDateTime"] = date
    return sr


def hook_request(case: dict | None, hook: str = "order-sign", orders: list[dict] | None = None, **context) -> dict:
    orders = orders or [order(case["request"]["code"], case["request"]["date"])]
    request = {"hook": hook, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "fhirServer": "https://ehr.example/fhir",
               "context": {"userId": "Practitioner/1", "patientId": "p1",
                           "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                           "entry": [{"resource": o} for o in orders]}, **context}}
    if case is not None:
        request["prefetch"] = {"documentation": {"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": {**response_from_case(case), "authored": "2026-01-01T00:00:00Z"}}]}}
    return request


def extension(action: dict) -> dict[str, list]:
    (ext,) = [e for e in action["resource"]["extension"] if e["url"] == COVERAGE_INFORMATION]
    out: dict[str, list] = {}
    for sub in ext["extension"]:
        out.setdefault(sub["url"], []).append(next(v for k, v in sub.items() if k.startswith("value")))
    return out


def test_discovery_lists_both_hooks_for_every_policy(client):
    services = client.get("/cds-services").json()["services"]
    assert {(s["hook"], s["id"]) for s in services} == {(h, service_id(h, p)) for h in HOOKS for p in policies()}
    for s in services:
        assert canonical(s["id"].split("-", 2)[-1]) in s["prefetch"]["documentation"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_order_sign_reports_the_determination_of_the_documented_case(client, name):
    case = EXAMPLES[name]
    policy = case.get("policy", DEFAULT_POLICY)
    expected = decide(case)
    got = client.post(f"/cds-services/{service_id('order-sign', policy)}", json=hook_request(case))
    assert got.status_code == 200
    body = got.json()
    (card,) = body["cards"]
    (action,) = body["systemActions"]
    ext = extension(action)
    assert action["type"] == "update" and action["resource"]["id"] == "sr-1"
    assert len(card["summary"]) <= 140 and card["indicator"] in ("info", "warning")
    words = {c.id: c.text for c in expected.criteria}
    if expected.determination == "medically_necessary":
        assert ext["covered"] == ["covered"] and "doc-needed" not in ext
    else:
        assert ext["covered"] == ["conditional"] and ext["doc-needed"] == ["clinical"]
        assert ext["questionnaire"] == [canonical(policy)]
        assert card["links"][0]["url"] == canonical(policy)
    for cid in expected.unmet:
        assert any(words[cid] in r["text"] for r in ext["reason"])  # the policy's words
        assert words[cid] in card["detail"]


def test_not_medically_necessary_is_never_a_denial(client):
    case = EXAMPLES["therapy-too-short"]
    assert decide(case).determination == "not_medically_necessary"
    body = client.post(f"/cds-services/{service_id('order-sign', DEFAULT_POLICY)}", json=hook_request(case)).json()
    ext = extension(body["systemActions"][0])
    assert ext["covered"] == ["conditional"] and ext["pa-needed"] == ["auth-needed"]
    assert "422.566(d)" in body["cards"][0]["detail"] and "not a denial" in body["cards"][0]["summary"]
    # Over every suite case: no determination maps to not-covered.
    documents = [load_case_file(p) for p in case_files()]
    for d in decide_many(documents):
        if not isinstance(d, Exception) and d.determination != "not_addressed":
            covered = [e["valueCode"] for e in coverage(d, d.policy["id"])[1]["extension"] if e["url"] == "covered"]
            assert covered != ["not-covered"]
            assert covered == (["covered"] if d.determination == "medically_necessary" else ["conditional"])


def test_without_documentation_it_asks_for_the_questionnaire(client):
    case = EXAMPLES["initial-diagnostic"]
    request = hook_request(case)
    del request["prefetch"]
    body = client.post(f"/cds-services/{service_id('order-sign', DEFAULT_POLICY)}", json=request).json()
    ext = extension(body["systemActions"][0])
    assert ext["covered"] == ["conditional"] and ext["doc-needed"] == ["clinical"]
    assert ext["questionnaire"] == [canonical(DEFAULT_POLICY)]
    assert body["cards"][0]["indicator"] == "warning"


def test_an_order_without_a_date_needs_its_timeframe(client):
    request = hook_request(None, orders=[order(EXAMPLES["initial-diagnostic"]["request"]["code"], None)])
    body = client.post(f"/cds-services/{service_id('order-sign', DEFAULT_POLICY)}", json=request).json()
    assert extension(body["systemActions"][0])["info-needed"] == ["timeframe"]


def test_a_code_the_policy_does_not_address_gets_no_card(client):
    request = hook_request(None, orders=[order("99213", "2026-03-02")])
    body = client.post(f"/cds-services/{service_id('order-sign', DEFAULT_POLICY)}", json=request).json()
    assert body == {"cards": [], "systemActions": []}


def test_order_select_answers_for_the_selected_orders_only(client):
    case = EXAMPLES["initial-diagnostic"]
    orders = [order("99213", "2026-03-02", "other"), order(case["request"]["code"], case["request"]["date"], "sij")]
    request = hook_request(case, "order-select", orders, selections=["ServiceRequest/sij"])
    body = client.post(f"/cds-services/{service_id('order-select', DEFAULT_POLICY)}", json=request).json()
    assert [a["resource"]["id"] for a in body["systemActions"]] == ["sij"]
    missing = copy.deepcopy(request)
    del missing["context"]["selections"]
    refused = client.post(f"/cds-services/{service_id('order-select', DEFAULT_POLICY)}", json=missing)
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "context.selections"


def test_malformed_hook_requests_are_refused_by_path(client):
    url = f"/cds-services/{service_id('order-sign', DEFAULT_POLICY)}"
    case = EXAMPLES["initial-diagnostic"]
    wrong_hook = hook_request(case, hook="patient-view")
    assert client.post(url, json=wrong_hook).json()["errors"][0]["path"] == "hook"
    no_code = hook_request(case)
    no_code["context"]["draftOrders"]["entry"][0]["resource"]["code"] = {"text": "SI joint injection"}
    refused = client.post(url, json=no_code)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "context.draftOrders.entry[0].resource.code"
    bad_answer = hook_request(case)
    bad_answer["prefetch"]["documentation"]["entry"][0]["resource"]["item"][0]["linkId"] = "nonsense"
    refused = client.post(url, json=bad_answer)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"].startswith("prefetch.documentation.entry[0].resource.item[0]")
    invalid_case = hook_request({**case, "pain": {**case["pain"], "score": 8}})
    invalid_case["prefetch"]["documentation"]["entry"][0]["resource"]["item"][1]["item"][0]["answer"] = [{"valueBoolean": True}]
    assert client.post(url, json=invalid_case).status_code == 422
    assert client.post("/cds-services/no-such-service", json=wrong_hook).status_code == 404
    assert client.post(url, content=b'{"hook": "order-sign", "hook": "order-sign"}').status_code == 422
    assert knowledge_base(DEFAULT_POLICY).id in client.get("/cds-services").text
