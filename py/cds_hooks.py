"""CDS Hooks for Da Vinci Coverage Requirements Discovery (CRD): order-sign and order-select.

A face over `decide` (design principle 9). Each draft ServiceRequest becomes a case: its CPT or
HCPCS code and its date from the order, the rest from the documentation the EHR prefetched as a
QuestionnaireResponse to the policy's generated questionnaire (kbquery.questionnaire). The
determination comes back as a card and as the coverage-information extension on the order:

    medically_necessary        covered, pa-needed satisfied: the documentation meets every criterion
    case_by_case_review        conditional, auth-needed: the policy asks for a case-by-case review
    more_information_needed    conditional, auth-needed, doc-needed clinical with the questionnaire
    not_medically_necessary    conditional, auth-needed, doc-needed clinical: not covered AS DOCUMENTED,
                               for a physician's review; never an automatic denial (42 CFR 422.566(d))
    not_addressed              no card: the policy says nothing about this code

The reasons are the criteria in the policy's words. An order without a date gets info-needed
`timeframe` and is not decided.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from .knowledge import knowledge_base, policies
from .questionnaire import ResponseError, canonical, case_from_response

HOOKS = ("order-sign", "order-select")
COVERAGE_INFORMATION = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
CODE_SYSTEMS = ("http://www.ama-assn.org/go/cpt", "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
                "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets")
REVIEW = ("A medical-necessity denial needs a physician's review (42 CFR 422.566(d)): this is not a denial; "
          "the request goes to human review with these reasons.")


def service_id(hook: str, policy: str) -> str:
    return f"{hook}-{policy}"


def services() -> dict:
    """The discovery document: one service per hook and installed policy."""
    out = []
    for policy in policies():
        kb = knowledge_base(policy)
        for hook in HOOKS:
            out.append({
                "hook": hook,
                "id": service_id(hook, policy),
                "title": f"Coverage requirements: {kb.id} ({kb.revision})",
                "description": f"Da Vinci CRD for {kb.id}, {kb.title}: whether the documentation of a drafted "
                               "ServiceRequest meets the policy, the criteria in the policy's words, and the "
                               "questionnaire that asks for what is missing.",
                "prefetch": {"patient": "Patient/{{context.patientId}}",
                             "documentation": f"QuestionnaireResponse?subject={{{{context.patientId}}}}"
                                              f"&questionnaire={canonical(policy)}&status=completed"},
            })
    return {"services": out}


def known_service(sid: str) -> tuple[str, str] | None:
    for policy in policies():
        for hook in HOOKS:
            if sid == service_id(hook, policy):
                return hook, policy
    return None


class HookError(ValueError):
    """A hook request that cannot be read: (path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {m}" for p, m in errors))


def orders(request: Any, hook: str) -> list[tuple[str, dict]]:
    """(path, ServiceRequest) of the draft orders the hook asks about (order-select: the selected ones)."""
    if not isinstance(request, dict):
        raise HookError([("", "a CDS Hooks request is a JSON object")])
    if request.get("hook") != hook:
        raise HookError([("hook", f"this service answers {hook}, not {str(request.get('hook'))[:40]!r}")])
    context = request.get("context")
    if not isinstance(context, dict):
        raise HookError([("context", "required: an object with draftOrders")])
    bundle = context.get("draftOrders")
    if not isinstance(bundle, dict) or not isinstance(bundle.get("entry", []), list):
        raise HookError([("context.draftOrders", "required: a Bundle of draft orders")])
    selected = context.get("selections") if hook == "order-select" else None
    if hook == "order-select" and not isinstance(selected, list):
        raise HookError([("context.selections", "required for order-select: the ids of the selected orders")])
    found = []
    for i, entry in enumerate(bundle.get("entry", [])):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "ServiceRequest":
            continue
        if selected is not None and f"ServiceRequest/{resource.get('id')}" not in selected:
            continue
        found.append((f"context.draftOrders.entry[{i}].resource", resource))
    return found


def order_code(order: dict) -> str | None:
    codings = (order.get("code") or {}).get("coding") or []
    for coding in codings if isinstance(codings, list) else []:
        if isinstance(coding, dict) and coding.get("system") in CODE_SYSTEMS and isinstance(coding.get("code"), str):
            return coding["code"]
    return None


def order_date(order: dict) -> str | None:
    for value in (order.get("occurrenceDateTime"), (order.get("occurrencePeriod") or {}).get("start"),
                  (order.get("occurrenceTiming") or {}).get("event", [None])[0] if isinstance(
                      order.get("occurrenceTiming"), dict) else None):
        if isinstance(value, str) and len(value) >= 10:
            try:
                return dt.date.fromisoformat(value[:10]).isoformat()
            except ValueError:
                continue
    return None


def documentation(request: dict) -> tuple[dict | None, str]:
    """The prefetched QuestionnaireResponse (the latest completed one of a Bundle), and its path."""
    prefetch = request.get("prefetch") or {}
    doc = prefetch.get("documentation") if isinstance(prefetch, dict) else None
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        responses = [(i, e.get("resource")) for i, e in enumerate(doc.get("entry") or [])
                     if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                     and e["resource"].get("resourceType") == "QuestionnaireResponse"]
        if not responses:
            return None, ""
        i, latest = max(responses, key=lambda r: str(r[1].get("authored", "")))
        return latest, f"prefetch.documentation.entry[{i}].resource"
    if isinstance(doc, dict) and doc.get("resourceType") == "QuestionnaireResponse":
        return doc, "prefetch.documentation"
    return None, ""


def case_of(request: dict, order: dict, where: str, policy: str) -> dict | None:
    """The case an order and the prefetched documentation make; None when the order has no date."""
    code, date = order_code(order), order_date(order)
    if code is None:
        raise HookError([(f"{where}.code", "no CPT or HCPCS coding (" + ", ".join(CODE_SYSTEMS[:2]) + ")")])
    if date is None:
        return None
    qr, qr_where = documentation(request)
    case: dict = {}
    if qr is not None:
        qr = {**qr, "questionnaire": canonical(policy)}  # read as an answer to this policy's questionnaire
        try:
            case, _ = case_from_response(qr)
        except ResponseError as e:
            raise HookError([(f"{qr_where}.{p}", m) for p, m in e.errors]) from None
    case["case_id"] = str(order.get("id") or request.get("hookInstance") or "order")[:200]
    case["policy"] = policy
    case["request"] = {**case.get("request", {}), "code": code, "date": date}
    return case


def coverage(d, policy: str) -> tuple[dict, dict]:
    """(card, coverage-information extension) of a determination; never a final denial."""
    kb = knowledge_base(policy)
    words = {c.id: c for c in d.criteria}
    url = canonical(policy)
    ext: list[dict] = []
    reasons: list[str] = []
    if d.determination == "medically_necessary":
        covered, pa, doc, indicator = "covered", "satisfied", None, "info"
        summary = f"Meets {kb.id}: every criterion of the governing sections is documented as met"
        reasons = [f"{c.id} met: {c.text}" for c in d.criteria if c.status == "met"]
    elif d.determination == "case_by_case_review":
        covered, pa, doc, indicator = "conditional", "auth-needed", None, "info"
        summary = f"{kb.id}: criteria met; the policy considers this request case by case"
        reasons = [f"{c.id} met: {c.text}" for c in d.criteria if c.status == "met"]
    elif d.determination == "more_information_needed":
        covered, pa, doc, indicator = "conditional", "auth-needed", "clinical", "warning"
        summary = f"{kb.id}: documentation missing for {', '.join(d.missing)}"
        reasons = [f"{cid} unknown: {words[cid].text if cid in words else ''} (missing: {', '.join(paths)})"
                   for cid, paths in d.missing.items()]
    else:  # not_medically_necessary: not covered as documented, for human review
        covered, pa, doc, indicator = "conditional", "auth-needed", "clinical", "warning"
        summary = f"{kb.id}: not met as documented ({', '.join(d.unmet)}); for review, not a denial"
        reasons = [f"{cid} not met as documented: {words[cid].text}" + (
            f" ({'; '.join(words[cid].reasons)})" if words[cid].reasons else "") for cid in d.unmet if cid in words]
        reasons.append(REVIEW)
    ext = [{"url": "covered", "valueCode": covered}, {"url": "pa-needed", "valueCode": pa}]
    if doc:
        ext += [{"url": "doc-needed", "valueCode": doc}, {"url": "questionnaire", "valueCanonical": url}]
    ext += [{"url": "reason", "valueCodeableConcept": {"text": r[:1000]}} for r in reasons[:20]]
    ext += [{"url": "date", "valueDate": dt.date.today().isoformat()},
            {"url": "coverage-assertion-id", "valueString": str(uuid.uuid4())}]
    detail = "\n".join(f"- {r}" for r in reasons)
    card = {"uuid": str(uuid.uuid4()), "summary": summary[:140], "indicator": indicator,
            "detail": f"Determination under {kb.id} ({kb.revision}), {kb.title}: "
                      f"**{d.determination.replace('_', ' ')}**.\n\n{detail}",
            "source": {"label": f"kbquery: {kb.id}", "topic": {"code": "coverage-info", "display": "Coverage information",
                                                                "system": "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"}}}
    if doc:
        card["links"] = [{"label": "Documentation questionnaire (DTR)", "url": url, "type": "absolute"}]
    return card, {"url": COVERAGE_INFORMATION, "extension": ext}


def info_needed_card(order: dict, policy: str) -> tuple[dict, dict]:
    kb = knowledge_base(policy)
    ext = {"url": COVERAGE_INFORMATION, "extension": [
        {"url": "covered", "valueCode": "conditional"}, {"url": "pa-needed", "valueCode": "conditional"},
        {"url": "info-needed", "valueCode": "timeframe"},
        {"url": "reason", "valueCodeableConcept": {"text": "the order has no date of service"}}]}
    card = {"uuid": str(uuid.uuid4()), "summary": f"{kb.id}: the order needs a date of service to be assessed",
            "indicator": "info", "detail": "Durations and windows in the policy end at the date of service.",
            "source": {"label": f"kbquery: {kb.id}"}}
    return card, ext


def answer(request: Any, hook: str, policy: str, decide_case) -> dict:
    """The CDS Hooks response: a card per order the policy addresses, and a systemAction that
    puts the coverage-information extension on the order. `decide_case(case)` decides a case."""
    cards, actions = [], []
    for where, order in orders(request, hook):
        case = case_of(request, order, where, policy)
        if case is None:
            card, ext = info_needed_card(order, policy)
        else:
            d = decide_case(case)
            if d.determination == "not_addressed":
                continue
            card, ext = coverage(d, policy)
        cards.append(card)
        annotated = {**order, "extension": [*(order.get("extension") or []), ext]}
        actions.append({"type": "update", "description": "coverage information", "resource": annotated})
    return {"cards": cards, "systemActions": actions}
