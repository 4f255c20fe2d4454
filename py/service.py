"""`kbquery serve`: the determinations over HTTP, the reviewer page, FHIR questionnaires and CDS Hooks.

A face over the same core as the command line (design principle 9): each route maps its request
to a case, calls `kbquery.decide` or `kbquery.explain.explain`, and maps the result back. The
body is read as bytes and parsed by `kbquery.case.parse`, exactly as the command line reads a
file, so a duplicate key, NaN or a lone surrogate is refused the same way, with the same paths
(HTTP 422); a body over the size limit is refused unread (413). A case becomes clingo symbols
through the API, never program text.

    POST /v1/decide                  a case -> the determination (JSON), ?policy=ID, ?reading=ID=CHOICE
    POST /v1/explain                 a case -> ?format=json (the graph), svg, or html (the whole page)
    GET  /v1/policies                the installed policies
    GET  /v1/policies/{id}/schema    a policy's case schema
    GET  /healthz                    liveness
    GET  /                           the reviewer page (reviewer.html, .css, .js beside this file)
    /fhir/...                        DTR questionnaires generated from the rules (kbquery.questionnaire)
    /cds-services...                 CDS Hooks, Da Vinci CRD (kbquery.cds_hooks)

The knowledge bases are loaded and a case of each policy decided once before the first request,
so a request costs grounding and solving only. Needs the `serve` extra: pip install -e '.[serve]'.
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi_offline import FastAPIOffline
import anyio

from . import CaseError, InternalError, decide
from .case import MAX_BYTES, parse
from .knowledge import DEFAULT_POLICY, UnknownPolicy, knowledge_base, policies

MAX_BODY = 1_000_000  # bytes of a request body; a case of the schema's largest lists is far smaller
# Deciding is CPU work: as many at once as there are cores (more only queue inside the solver,
# and each thread costs the allocator an arena); the rest wait their turn.
WORKERS = max(2, os.cpu_count() or 1)
_limiter: anyio.CapacityLimiter | None = None


async def run_in_threadpool(fn, *args):
    """fn(*args) on a worker thread, at most WORKERS at once."""
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(WORKERS)
    return await anyio.to_thread.run_sync(fn, *args, limiter=_limiter)
EXPLAIN_MEDIA = {"json": "application/json", "svg": "image/svg+xml", "html": "text/html; charset=utf-8"}
STATIC = {"reviewer.js": "text/javascript; charset=utf-8", "reviewer.css": "text/css; charset=utf-8"}


class Refused(Exception):
    """A request the service answers with a 4xx: status, and (path, message) pairs."""

    def __init__(self, status: int, errors: list[tuple[str, str]], more: int = 0, case_id: str | None = None):
        self.status, self.errors, self.more, self.case_id = status, errors, more, case_id


def refusal(status: int, errors: list[tuple[str, str]], more: int = 0, case_id: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": "invalid case" if status == 422 else "refused",
                            "errors": [{"path": p, "message": m} for p, m in errors]}
    if more:
        body["more"] = more
    if case_id:
        body["case_id"] = case_id
    return JSONResponse(body, status_code=status)


async def body_bytes(request: Request, limit: int) -> bytes:
    """The raw body, refused (413) past `limit` bytes: by its Content-Length, or as it streams in."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, [("", f"the body is larger than the limit of {limit} bytes")])
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, [("", f"the body is larger than the limit of {limit} bytes")])
        chunks.append(chunk)
    return b"".join(chunks)


def readings_of(values: list[str]) -> dict[str, str]:
    chosen = {}
    for item in values:
        rid, sep, choice = item.partition("=")
        if not sep:
            raise Refused(400, [("?reading", f"{item[:60]!r} is not ID=CHOICE")])
        chosen[rid.strip()] = choice.strip()
    return chosen


def policy_kb(policy: str | None):
    if policy is None:
        return None
    try:
        return knowledge_base(policy)
    except UnknownPolicy as e:
        raise Refused(422, [("?policy", str(e))]) from None


def decided(case: Any, policy: str | None = None, readings: dict[str, str] | None = None):
    """A parsed case (or suite case file) decided as the command line decides it; Refused when it is not valid."""
    try:
        return decide(case, readings=readings, kb=policy_kb(policy))
    except CaseError as e:
        raise Refused(422, e.errors, e.more, e.case_id) from None
    except ValueError as e:  # a reading the register does not offer
        raise Refused(422, [("?reading", str(e))]) from None


def decide_body(body: bytes, policy: str | None, readings: dict[str, str]):
    try:
        case = parse(body)
    except CaseError as e:
        raise Refused(422, e.errors, e.more, e.case_id) from None
    return decided(case, policy, readings)


def policy_list() -> list[dict]:
    return [{"id": kb.id, "revision": kb.revision, "title": kb.title, "source": kb.source,
             "default": kb.id == DEFAULT_POLICY, "restatement": kb.restatement}
            for kb in map(knowledge_base, policies())]


def warm() -> None:
    """Load every knowledge base and decide one case under each, so requests find the rules prepared."""
    for name in policies():
        kb = knowledge_base(name)
        kb.statements, kb.clauses, kb.readings  # noqa: B018 (cached on first use)
        decide({"case_id": "warm-up", "request": {"date": "2026-01-01", "code": "0"}}, kb=kb)


CASE_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "description": "a case (kbquery schema; GET /v1/policies/{id}/schema), "
               "or a suite case file {description, case, readings, expect}"},
    "example": {"case_id": "x", "request": {"date": "2026-03-02", "code": "99213"}}}}}}


def create_app(max_body: int = MAX_BODY, warm_up: bool = True) -> FastAPI:
    """The application; `max_body` bounds a request body in bytes (413 beyond it)."""
    # FastAPIOffline: /docs (Swagger UI) served from the package, not a CDN, so that the
    # documentation reads on a network that reaches nothing but this service. No /redoc: its page
    # still fetches a logo from redoc.ly.
    app = FastAPIOffline(title="kbquery", version="1", redoc_url=None,
                         description="Determinations under health-plan medical policies encoded in Answer Set "
                                     "Programming, with their explanations, FHIR DTR questionnaires and CDS Hooks.")
    limit = min(max_body, MAX_BYTES)
    app.state.max_body = limit

    @app.exception_handler(Refused)
    async def refused(request: Request, e: Refused):
        return refusal(e.status, e.errors, e.more, e.case_id)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, e: RequestValidationError):  # a query parameter FastAPI checks
        errors = [("?" + ".".join(str(p) for p in error["loc"][1:]) if error["loc"][:1] == ("query",)
                   else ".".join(str(p) for p in error["loc"]), error["msg"]) for error in e.errors()]
        return refusal(422, errors)

    @app.exception_handler(InternalError)
    async def internal(request: Request, e: InternalError):
        return JSONResponse({"error": "internal error of the knowledge base", "detail": str(e)}, status_code=500)

    if warm_up:
        app.router.on_startup.append(lambda: warm())

    @app.post("/v1/decide", openapi_extra=CASE_BODY, summary="Decide a case")
    async def decide_route(request: Request, policy: str | None = Query(None, description="policy id (default: the case's own)"),
                           reading: list[str] = Query([], description="ID=CHOICE, a switched reading")):
        body = await body_bytes(request, limit)
        d = await run_in_threadpool(decide_body, body, policy, readings_of(reading))
        return JSONResponse(d.to_dict())

    @app.post("/v1/explain", openapi_extra=CASE_BODY, summary="Explain a case: the justification graph")
    async def explain_route(request: Request, format: str = Query("json", pattern="^(json|svg|html)$"),
                            policy: str | None = Query(None), reading: list[str] = Query([]),
                            expand: bool = Query(False, description="unfold the met branches")):
        body = await body_bytes(request, limit)
        chosen = readings_of(reading)

        def work() -> bytes:
            from .explain import explain
            return explain(decide_body(body, policy, chosen), False if expand else None).render(format)

        return Response(await run_in_threadpool(work), media_type=EXPLAIN_MEDIA[format])

    @app.get("/v1/policies", summary="The installed policies")
    def policies_route():
        return policy_list()

    @app.get("/v1/policies/{policy}/schema", summary="A policy's case schema (JSON Schema 2020-12)")
    def schema_route(policy: str):
        try:
            return knowledge_base(policy).schema
        except UnknownPolicy as e:
            return refusal(404, [("policy", str(e))])

    @app.get("/healthz", summary="Liveness")
    def healthz():
        return {"status": "ok", "policies": policies()}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def reviewer_page():
        return HTMLResponse(_static("reviewer.html"), headers=_PAGE_HEADERS)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str):
        if name not in STATIC:
            return refusal(404, [("", f"no file {name[:60]!r}")])
        return Response(_static(name), media_type=STATIC[name])

    fhir_routes(app, limit)
    cds_routes(app, limit)
    return app


def cds_routes(app: FastAPI, limit: int) -> None:
    """CDS Hooks, Da Vinci CRD: discovery, and order-sign / order-select per policy (kbquery.cds_hooks)."""
    from . import cds_hooks

    @app.get("/cds-services", summary="CDS Hooks discovery")
    def discovery():
        return cds_hooks.services()

    @app.post("/cds-services/{service}", summary="A CDS Hooks service: coverage requirements of draft orders")
    async def hook(service: str, request: Request):
        known = cds_hooks.known_service(service)
        if known is None:
            return refusal(404, [("service", f"no CDS service {service[:60]!r} (GET /cds-services lists them)")])
        try:
            body = parse(await body_bytes(request, limit))
        except CaseError as e:
            raise Refused(422, e.errors, e.more) from None

        def work() -> dict:
            try:
                return cds_hooks.answer(body, *known, decided)
            except cds_hooks.HookError as e:
                raise Refused(422, e.errors) from None

        return JSONResponse(await run_in_threadpool(work))


FHIR_JSON = "application/fhir+json"


def fhir_routes(app: FastAPI, limit: int) -> None:
    """DTR: the questionnaire generated from the rules, $decide and $next-question (kbquery.questionnaire)."""
    from . import questionnaire as q

    def read(body: bytes) -> Any:
        try:
            return parse(body)
        except CaseError as e:
            raise Refused(422, e.errors, e.more) from None

    def as_case(qr: Any) -> dict:
        try:
            return q.case_from_response(qr)[0]
        except q.ResponseError as e:
            raise Refused(422, e.errors) from None

    @app.get("/fhir/Questionnaire/{policy}", summary="The DTR Questionnaire of a policy, generated from its rules")
    def questionnaire_route(policy: str):
        if policy not in policies():
            return refusal(404, [("policy", f"no policy {policy[:60]!r} (known: {', '.join(policies())})")])
        return JSONResponse(q.questionnaire(policy), media_type=FHIR_JSON)

    @app.post("/fhir/QuestionnaireResponse/$decide", summary="Decide a QuestionnaireResponse as a case")
    async def response_decide_route(request: Request):
        qr = read(await body_bytes(request, limit))

        def work() -> dict:
            case = as_case(qr)
            return {"case": case, "determination": decided(case).to_dict()}

        return JSONResponse(await run_in_threadpool(work))

    @app.post("/fhir/Questionnaire/$next-question", summary="SDC adaptive form: the next question that matters")
    async def next_question_route(request: Request):
        qr = read(await body_bytes(request, limit))
        if isinstance(qr, dict) and qr.get("resourceType") == "Parameters":  # SDC's input parameter
            qr = next((p.get("resource") for p in qr.get("parameter", []) if isinstance(p, dict)
                       and p.get("name") == "questionnaire-response"), None)

        def work() -> dict:
            try:
                return q.next_question(qr, decided)
            except q.ResponseError as e:
                raise Refused(422, e.errors) from None

        return JSONResponse(await run_in_threadpool(work), media_type=FHIR_JSON)


# The page loads nothing from elsewhere: its own script and style, its own API, and the pictures and
# pages it makes (the whole explanation opens as a blob: document, whose script is inline).
_PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; "
                                            "style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; "
                                            "connect-src 'self'; object-src 'none'"}


def _static(name: str) -> bytes:
    return (resources.files("kbquery") / name).read_bytes()


def serve(host: str = "127.0.0.1", port: int = 8000, max_body: int = MAX_BODY) -> None:
    import uvicorn

    uvicorn.run(create_app(max_body), host=host, port=port, log_level="info")
