"""FHIR DTR questionnaires generated from the rules: valid FHIR, exactly the fields the rules read,
grouped by criterion in the policy's words; every suite case survives the round trip case ->
QuestionnaireResponse -> case with the same determination; $decide and $next-question."""

from __future__ import annotations

import copy
import functools
import json
import re
import warnings

import pytest
from click.testing import CliRunner

from conftest import ROOT, case_files, load_case_file
from kbquery import decide, decide_many
from kbquery.case import case_document, subschema
from kbquery.cli import main
from kbquery.knowledge import DEFAULT_POLICY, knowledge_base, policies
from kbquery.questionnaire import (NONE, canonical, case_from_response, item_index, questionnaire, reads,
                                   response_from_case, validate_fhir)
from kbquery.service import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EXAMPLE = json.loads((ROOT / "examples" / "initial-diagnostic.json").read_text())


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(warm_up=False)) as c:
        yield c


def leaves(items):
    """The items that are answered (a questionnaire's or a response's), not groups."""
    for item in items:
        if item.get("type") == "group" or "item" in item:
            yield from leaves(item.get("item", []))
        else:
            yield item


def keys_of(link: str) -> tuple:
    return tuple(0 if part == "[]" else part for part in re.findall(r"[^.\[\]]+|\[\]", link))


@pytest.mark.parametrize("policy", policies())
def test_the_questionnaire_is_valid_fhir_and_asks_what_the_rules_read(policy):
    q = questionnaire(policy)
    validate_fhir(q)
    kb = knowledge_base(policy)
    assert q["url"] == canonical(policy) and q["version"] == kb.revision
    asked = [i["linkId"] for i in leaves(q["item"])]
    assert len(asked) == len(set(asked)), "every field is asked once"
    fields = {".".join(p).replace(".[]", "[]") for p in reads(policy)}
    answered = {link for link in asked if not link.endswith(NONE)}
    # Every field read is asked, as an answer or (a list of objects) as its repeating group.
    groups = {i["linkId"][:-2] for i in item_index(policy).values() if i["type"] == "group" and i.get("repeats")}
    assert fields == answered | {f for f in fields if f in groups}
    for link in answered:  # each one a field of the case schema, its answer typed from it
        sub = subschema(kb.schema, keys_of(link))
        item = item_index(policy)[link]
        if sub.get("format") == "date":
            assert item["type"] == "date"
        elif sub.get("type") == "integer":
            assert item["type"] == "integer"
            bounds = {e["url"].rsplit("/", 1)[-1]: e["valueInteger"] for e in item.get("extension", [])}
            assert bounds == {k: sub[v] for k, v in (("minValue", "minimum"), ("maxValue", "maximum")) if v in sub}
        elif sub.get("type") == "boolean":
            assert item["type"] == "boolean"
        elif "enum" in sub or "enum" in sub.get("items", {}):
            assert item["type"] == "choice"
            assert [o["valueCoding"]["code"] for o in item["answerOption"]] == sub.get("enum") or sub["items"]["enum"]
        else:
            assert item["type"] == "string"


@pytest.mark.parametrize("policy", policies())
def test_groups_are_criteria_in_the_policys_words(policy):
    kb = knowledge_base(policy)
    groups = [i for i in questionnaire(policy)["item"] if i["linkId"].startswith("criterion:")]
    assert groups
    for group in groups:
        assert group["text"] == kb.clauses[group["prefix"]] and group["linkId"] == f"criterion:{group['prefix']}"
    # Fields a criterion reads sit in its group (the first in outline order that reads them).
    info = reads(policy)
    for group in groups:
        for item in group["item"]:
            link = item["linkId"].removesuffix(NONE)
            pattern = tuple(re.findall(r"[^.\[\]]+|\[\]", link))
            assert info[pattern]["criteria"][0] == group["prefix"]


def test_the_command_prints_the_questionnaire():
    result = CliRunner().invoke(main, ["questionnaire", "--policy", "L39383"])
    assert result.exit_code == 0 and json.loads(result.stdout) == questionnaire("L39383")
    assert "Example:" in CliRunner().invoke(main, ["questionnaire", "--help"]).output


SUITE = case_files()


def test_every_suite_case_survives_the_round_trip_with_its_determination():
    """case -> QuestionnaireResponse (valid FHIR) -> case: the same determination, criterion by
    criterion; and no field the knowledge base reports missing is in a group its request disables."""
    originals, trips = [], []
    for path in SUITE:
        document = load_case_file(path)
        case, readings, _ = case_document(document)
        response = response_from_case(case)
        validate_fhir(response)
        back, policy = case_from_response(json.loads(json.dumps(response)))
        assert policy == case.get("policy", DEFAULT_POLICY)
        originals.append(document)
        trips.append({**document, "case": back} if readings is not None else back)
    for path, before, after in zip(SUITE, decide_many(originals), decide_many(trips)):
        if isinstance(before, Exception):  # a suite file of an invalid case: invalid after too
            assert isinstance(after, Exception), path
            continue
        assert not isinstance(after, Exception), (path, after)
        b, a = before.to_dict(), after.to_dict()
        assert a == b, path.relative_to(ROOT)
        # Every field the knowledge base asks for is in a group the request enables.
        for paths in before.missing.values():
            for missing in paths:
                group = group_of(before.policy["id"], re.sub(r"\[\d+\]", "[]", missing))
                assert enabled(group, before.case), (path.relative_to(ROOT), missing, group["linkId"])


@functools.lru_cache(maxsize=None)
def group_of(policy: str, link: str) -> dict:
    """The top-level group of the questionnaire that asks this field (or its list)."""
    for group in questionnaire(policy)["item"]:
        links = {i["linkId"].removesuffix(NONE) for i in [group, *leaves(group.get("item", []))]}
        if link in links or link + "[]" in links:
            return group
    raise AssertionError(f"no item asks {link}")


def enabled(group: dict, case: dict) -> bool:
    """A group's enableWhen over a case's request (FHIR's rules for "=" and "exists")."""
    def holds(condition) -> bool:
        value = case.get("request", {}).get(condition["question"].split(".")[1])
        if condition["operator"] == "exists":
            return (value is not None) == condition["answerBoolean"]
        wanted = condition.get("answerString", condition.get("answerCoding", {}).get("code"))
        return value == wanted

    conditions = group.get("enableWhen", [])
    if not conditions:
        return True
    combine = any if group["enableBehavior"] == "any" else all
    return combine(holds(c) for c in conditions)


def test_decide_a_questionnaire_response(client):
    response = response_from_case(EXAMPLE)
    answer = client.post("/fhir/QuestionnaireResponse/$decide", json=response)
    assert answer.status_code == 200
    assert answer.json()["determination"] == decide(EXAMPLE).to_dict()
    bad = copy.deepcopy(response)
    bad["item"][0]["item"][0]["linkId"] = "pain.nonsense"
    refused = client.post("/fhir/QuestionnaireResponse/$decide", json=bad)
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "item[0].item[0].linkId"
    invalid = copy.deepcopy(response)
    next(i for i in leaves(invalid["item"]) if i["linkId"] == "pain.score")["answer"] = [{"valueInteger": 11}]
    refused = client.post("/fhir/QuestionnaireResponse/$decide", json=invalid)
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "pain.score"
    assert client.post("/fhir/QuestionnaireResponse/$decide", content=b'{"a": 1, "a": 2}').status_code == 422


def test_the_questionnaire_route(client):
    for policy in policies():
        got = client.get(f"/fhir/Questionnaire/{policy}")
        assert got.status_code == 200 and got.json() == questionnaire(policy)
        assert got.headers["content-type"].startswith("application/fhir+json")
    assert client.get("/fhir/Questionnaire/NO.SUCH").status_code == 404


def test_next_question_asks_only_what_is_missing_until_settled(client):
    """From an empty response, answer each question the service asks with the example's value
    (`none` for an empty list, no answer for what the example does not document): it asks only
    fields the knowledge base reports missing, each once, and stops once the determination is settled."""
    qr = {"resourceType": "QuestionnaireResponse", "questionnaire": canonical(DEFAULT_POLICY),
          "status": "in-progress", "identifier": {"value": "adaptive"}, "item": []}
    asked = []
    for _ in range(60):
        out = client.post("/fhir/Questionnaire/$next-question", json=qr).json()
        validate_fhir(out)
        if out["status"] == "completed":
            break
        item = out["contained"][0]["item"][0]
        path = out["extension"][0]["valueString"]
        asked.append(path)
        case, _ = case_from_response(qr)
        if case.get("request", {}).get("date") and case["request"].get("code"):  # past what every case must say
            assert path in {p for paths in decide(case).missing.values() for p in paths}
        value = EXAMPLE
        for k in keys_of(path):
            value = value[k] if isinstance(value, dict) and k in value else None
        answer_item = {"linkId": item["linkId"]}
        if value is None:  # not in the record: left unanswered, so not asked again
            pass
        elif item["linkId"].endswith(NONE) or value == []:
            answer_item = {"linkId": item["linkId"].removesuffix(NONE) + NONE, "answer": [{"valueBoolean": True}]}
        elif item["type"] == "choice":
            values = value if isinstance(value, list) else [value]
            answer_item["answer"] = [{"valueCoding": {"code": v}} for v in values]
        else:
            key = {"date": "valueDate", "integer": "valueInteger", "boolean": "valueBoolean", "string": "valueString"}
            answer_item["answer"] = [{key[item["type"]]: value}]
        qr["item"].append(answer_item)
    else:
        pytest.fail(f"no determination after 60 questions: {asked}")
    assert asked[:2] == ["request.date", "request.code"] and len(asked) == len(set(asked))
    # SDC's own input form, a Parameters resource holding the response, is answered the same.
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "questionnaire-response", "resource": qr}]}
    assert client.post("/fhir/Questionnaire/$next-question", json=parameters).json() == out
    final, _ = case_from_response(qr)
    determination = out["extension"][0]["valueCode"]
    assert determination == decide(final).determination != "more_information_needed"
    assert determination == decide(EXAMPLE).determination
    assert len(asked) < len(list(leaves(questionnaire()["item"]))), "it asks fewer questions than the form has"
