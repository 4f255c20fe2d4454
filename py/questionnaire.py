"""FHIR DTR questionnaires generated from the rules, and the way back from a response to a case.

Which fields a policy reads is not written down here: it is what the rules say. The rules are
grounded over the whole space of cases the schema admits (kb/common/qa_space.lp, lists bounded
as the policy's qa.lp bounds them, one prior procedure), and every `reads(Node, Path)` atom the
grounding can derive, under any reading of the register, is a field the policy may read; `part/2` says under which criterion
(`clause/2`) each node lies, and `label/2` what the node asks, in the rules' words. The fields
a case must have whatever a policy reads (the schema's required ones) are added.

The Questionnaire (FHIR R4; validated with fhir.resources' R4B models, whose Questionnaire is
R4's) groups the fields by the first criterion, in outline order, that reads them, the group's
text being the criterion's words; fields read by no criterion (what classifies the request)
come first. Lists of objects (earlier procedures, scores after each) are repeating groups. A
list the rules read as a whole, where an empty list documents "none", has a `PATH:none` boolean
item. Answers are typed from the schema: date, integer with its range, boolean, choice with a
coding for each enumerated value, string. A criterion's group is enabled by the request's code
(or else its purpose) when QA's search of the space finds the criteria reading its fields listed
for those requests only.

    questionnaire(policy)            the Questionnaire (a dict)
    case_from_response(qr)           a QuestionnaireResponse as a case (kbquery's own format)
    response_from_case(case, policy) the other way: a case as a QuestionnaireResponse
    next_question(qr)                SDC $next-question: the next field the knowledge base misses
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import Any

import clingo
from clingo import ast

from .case import subschema, value_at
from .determination import clause_order
from .knowledge import DEFAULT_POLICY, KnowledgeBase, knowledge_base
from .symbols import symbol_path

BASE = "https://kbquery.example/fhir"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
DETERMINATION_EXT = f"{BASE}/StructureDefinition/determination"
NEXT_PATH_EXT = f"{BASE}/StructureDefinition/next-question-path"
NONE = ":none"
REQUEST_GROUP = "group:request"


def canonical(policy: str) -> str:
    return f"{BASE}/Questionnaire/{policy}"


# ---------------------------------------------------------------------------- what the rules read

Pattern = tuple  # a path with each list index as "[]"


def _pattern(path: tuple) -> Pattern:
    return tuple("[]" if isinstance(p, int) else p for p in path)


def text_of(pattern: Pattern) -> str:
    return ".".join(pattern).replace(".[]", "[]")


@functools.lru_cache(maxsize=None)
def reads(policy: str) -> dict[Pattern, dict]:
    """Every field the policy's rules may read: pattern -> {"criteria": [...], "labels": [...]}, in
    the order of the fields' first criterion. From one grounding of the rules over the QA space."""
    from . import qa

    kb = knowledge_base(policy)
    # Under every reading of the register at once: each switchable reading's constant names no
    # choice, and any of its options may be chosen, so what any reading reads is derivable.
    switched = [arg for r in kb.readings.values() if len(r.options) > 1
                for arg in ("-c", f"reading_{r.id}=questionnaire_any_choice")]
    ctl = clingo.Control(["--warn=none", *switched])
    program: list = list(kb.statements)
    ast.parse_string("{ chosen(R, C) } :- option(R, C, _).", program.append)
    ast.parse_files([str(kb.root / qa.SPACE)], program.append)
    space = qa.policy_space(kb)
    program += space.statements
    with ast.ProgramBuilder(ctl) as builder:
        for stmt in program:
            builder.add(stmt)
    bounds = {k: (1 if len(k) == 1 else v) for k, v in space.bounds.items()}
    with ctl.backend() as backend:
        for sym in qa.space_facts(kb.schema, bounds) + qa.calendar_facts(*qa.CALENDAR) + space.facts:
            backend.add_rule([backend.add_atom(sym)])
    ctl.ground([("base", [])])
    atoms = ctl.symbolic_atoms

    def node(sym: clingo.Symbol) -> str:
        return sym.string if sym.type == clingo.SymbolType.String else str(sym)

    children = defaultdict(set)
    for a in atoms.by_signature("part", 2):
        parent, child = a.symbol.arguments
        children[node(parent)].add(node(child))
    labels = {node(a.symbol.arguments[0]): a.symbol.arguments[1].string for a in atoms.by_signature("label", 2)}
    read_by = defaultdict(set)
    for a in atoms.by_signature("reads", 2):
        n, p = a.symbol.arguments
        read_by[node(n)].add(_pattern(symbol_path(p)))

    found: dict[Pattern, dict] = {}
    for criterion in sorted(kb.clauses, key=clause_order):
        seen, stack = set(), [criterion]
        while stack:
            n = stack.pop()
            if n in seen or (n != criterion and n in kb.clauses):
                continue  # a criterion under another asks its own fields
            seen.add(n)
            stack.extend(children.get(n, ()))
            for p in read_by.get(n, ()):
                entry = found.setdefault(p, {"criteria": [], "labels": []})
                if criterion not in entry["criteria"]:
                    entry["criteria"].append(criterion)
                if n in labels and labels[n] not in entry["labels"]:
                    entry["labels"].append(labels[n])
    for criterion in kb.clauses:  # every criterion above a reading node, nested ones or not
        seen, stack = set(), [criterion]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(children.get(n, ()))
                for p in read_by.get(n, ()):
                    found[p].setdefault("within", set()).add(criterion)
    for n, paths in read_by.items():  # read by what classifies the request, under no criterion
        for p in paths:
            entry = found.setdefault(p, {"criteria": [], "labels": []})
            if n in labels and labels[n] not in entry["labels"]:
                entry["labels"].append(labels[n])
    # What the rules test of a case without a node that declares it read (what classifies a
    # request, say), and what every case must say.
    for p in [*_tested(kb), *_required(kb.schema)]:
        found.setdefault(p, {"criteria": [], "labels": []})
    # A field inside a list of objects needs its list; and its item's required fields.
    for p in list(found):
        for i, key in enumerate(p):
            if key == "[]":
                for q in _required(subschema(kb.schema, tuple(0 if k == "[]" else k for k in p[:i + 1])), p[:i + 1]):
                    found.setdefault(q, {"criteria": [], "labels": []})
    return found


CASE_ATOMS = {"value", "present", "length"}


def _tested(kb: KnowledgeBase) -> list[Pattern]:
    """The fields the rules' bodies test by path (value/2, present/1, length/2 over a tuple of
    keys): a static reading of the rules, each list index (a number or a variable) as "[]"."""
    found: list[Pattern] = []

    def term_pattern(term) -> Pattern | None:
        if term.ast_type != ast.ASTType.Function or term.name or not term.arguments:
            return None
        pattern: list = []
        for arg in term.arguments:
            sub = _sub(kb.schema, tuple(pattern))
            if sub.get("type") == "array":
                pattern.append("[]")
            elif arg.ast_type == ast.ASTType.SymbolicTerm and arg.symbol.type == clingo.SymbolType.Function \
                    and not arg.symbol.arguments:
                pattern.append(arg.symbol.name)
            elif arg.ast_type == ast.ASTType.Function and not arg.arguments and not arg.external:
                pattern.append(arg.name)
            else:
                return None  # a key the rule leaves open: what the grounding derived covers it
            if pattern[-1] != "[]" and pattern[-1] not in _sub(kb.schema, tuple(pattern[:-1])).get("properties", {}):
                return None
        return tuple(pattern)

    def visit(node) -> None:
        if node.ast_type == ast.ASTType.SymbolicAtom:
            atom = node.symbol
            if atom.ast_type == ast.ASTType.Function and atom.name in CASE_ATOMS and atom.arguments:
                p = term_pattern(atom.arguments[0])
                while p and p[-1] == "[]":  # an item of a list: the list
                    p = p[:-1]
                if p and p not in found:
                    found.append(p)
            return
        for key in node.child_keys:
            child = getattr(node, key)
            for c in (child if isinstance(child, (list, tuple)) else [child]):
                if isinstance(c, ast.AST):
                    visit(c)

    for stmt in kb.statements:
        if stmt.ast_type == ast.ASTType.Rule:
            for literal in stmt.body:
                visit(literal)
    return found


# When a criterion can be in a request's tree, by the request's code and purpose ("none": absent).
ENABLE_RULES = """
qa_enabled(C, X, U) :- listed(C), value((request, code), X), value((request, purpose), U).
qa_enabled(C, X, none) :- listed(C), value((request, code), X), not present((request, purpose)).
"""
CODE, PURPOSE = ("request", "code"), ("request", "purpose")


@functools.lru_cache(maxsize=None)
def enabled(policy: str) -> tuple[dict[str, set[tuple[str, str]]], bool]:
    """For each criterion, the (code, purpose) pairs of the requests whose tree lists it, found by
    searching the QA space (the policy's own bounds, every reading); and whether the search was
    exhaustive (if not, no group is made conditional)."""
    from . import qa

    kb = knowledge_base(policy)
    statements = list(kb.statements)
    ast.parse_string("{ chosen(R, C) } :- option(R, C, _)." + ENABLE_RULES, statements.append)
    search = qa.Search(kb, statements, [], ["qa_enabled"], options=_any_reading(kb))
    exhaustive = search.explore(list(search.targets))
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for target in search.reached:
        c, x, u = target.arguments
        found[c.string].add((x.string, u.name))
    return dict(found), exhaustive


def _any_reading(kb: KnowledgeBase) -> list[str]:
    """clingo options under which no switchable reading is fixed (the rules' choice rule picks any)."""
    return [arg for r in kb.readings.values() if len(r.options) > 1
            for arg in ("-c", f"reading_{r.id}=questionnaire_any_choice")]


def enable_when(policy: str, criteria: set[str]) -> tuple[list[dict], str] | None:
    """(enableWhen, enableBehavior) of a group whose fields these criteria read: the request codes,
    or else the purposes, under which one of them can be listed; None when that is every request
    in scope. One dimension only (R4's enableWhen cannot say "code A or B, and purpose C"), so a
    group may show where none of its criteria is listed, never hide where one is."""
    pairs, exhaustive = enabled(policy)
    if not exhaustive or not criteria or not criteria <= set(pairs):
        return None
    every = set().union(*pairs.values())
    mine = set().union(*(pairs[c] for c in criteria))
    codes = {x for x, _ in mine}
    purposes = {u for _, u in mine}
    system = _coding_system(policy, PURPOSE)
    if purposes != {u for _, u in every}:
        conditions = [{"question": text_of(PURPOSE), "operator": "exists", "answerBoolean": False} if u == "none"
                      else {"question": text_of(PURPOSE), "operator": "=", "answerCoding": {"system": system, "code": u}}
                      for u in sorted(purposes)]
        return conditions, "any"
    if codes != {x for x, _ in every}:
        return [{"question": text_of(CODE), "operator": "=", "answerString": x} for x in sorted(codes)], "any"
    return None


def _required(schema: dict, prefix: Pattern = ()) -> list[Pattern]:
    """The fields an object must have, and within them the fields they must have (not the
    caller's own identifier, which a response carries as its identifier)."""
    out = []
    for key in schema.get("required", []):
        sub = schema.get("properties", {}).get(key, {})
        if sub.get("type") == "object":
            out += _required(sub, prefix + (key,))
        elif not sub.get("x-echo-only"):
            out.append(prefix + (key,))
    return out


# ---------------------------------------------------------------------------- the questionnaire

def _sub(schema: dict, pattern: Pattern) -> dict:
    return subschema(schema, tuple(0 if k == "[]" else k for k in pattern))


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


def _coding_system(policy: str, pattern: Pattern) -> str:
    return f"{BASE}/CodeSystem/{text_of(pattern)}"


def _answer_item(kb: KnowledgeBase, pattern: Pattern, info: dict) -> dict:
    sub = _sub(kb.schema, pattern)
    link = text_of(pattern)
    text = "; ".join(info["labels"]) or sub.get("description") or _words(pattern[-1])
    item: dict[str, Any] = {"linkId": link, "text": f"{text} [{link}]",
                            "definition": f"{kb.schema.get('$id', BASE)}#{link}"}
    values = sub.get("items", {}).get("enum") if sub.get("type") == "array" else sub.get("enum")
    if values:
        item["type"] = "choice"
        item["answerOption"] = [{"valueCoding": {"system": _coding_system(kb.id, pattern), "code": v,
                                                 "display": _words(v)}} for v in values]
        if sub.get("type") == "array":
            item["repeats"] = True
    elif sub.get("format") == "date":
        item["type"] = "date"
    elif sub.get("type") == "boolean":
        item["type"] = "boolean"
    elif sub.get("type") == "integer":
        item["type"] = "integer"
        extensions = [{"url": url, "valueInteger": sub[key]} for url, key in ((MIN_VALUE, "minimum"), (MAX_VALUE, "maximum"))
                      if key in sub]
        if extensions:
            item["extension"] = extensions
    else:
        item["type"] = "string"
        if "maxLength" in sub:
            item["maxLength"] = sub["maxLength"]
    return item


def _none_item(kb: KnowledgeBase, pattern: Pattern) -> dict:
    sub = _sub(kb.schema, pattern)
    link = text_of(pattern)
    return {"linkId": link + NONE, "type": "boolean",
            "text": f"None documented: {sub.get('description', _words(pattern[-1]))} [{link} = []]"}


def _is_object_list(kb: KnowledgeBase, pattern: Pattern) -> bool:
    sub = _sub(kb.schema, pattern)
    return sub.get("type") == "array" and sub.get("items", {}).get("type") == "object"


def _required_here(kb: KnowledgeBase, pattern: Pattern) -> bool:
    """Required whenever its enclosing object (the case, or a list item) is given."""
    parent = _sub(kb.schema, pattern[:-1]) if len(pattern) > 1 else kb.schema
    if pattern[-1] not in parent.get("required", []):
        return False
    return len(pattern) == 1 or pattern[-2] == "[]" or _required_here(kb, pattern[:-1])


def _list_group(kb: KnowledgeBase, fields: dict[Pattern, dict], prefix: Pattern) -> dict:
    """The repeating group of a list of objects: its fields, nested lists of objects as groups."""
    sub = _sub(kb.schema, prefix[:-1])
    read_by = sorted({c for p, info in fields.items() if p[:len(prefix)] == prefix for c in info["criteria"]},
                     key=clause_order)
    items: list[dict] = []
    for p, info in fields.items():
        if p[:len(prefix)] != prefix or len(p) == len(prefix) or "[]" in p[len(prefix):-1]:
            continue
        if _is_object_list(kb, p):
            items += [_none_item(kb, p), _list_group(kb, fields, p + ("[]",))]
        else:
            items.append(_with_required(kb, _answer_item(kb, p, info), p))
    for p in fields:  # nested lists whose own path is not read, only their items' fields
        nested = p[:len(prefix) + 2] if len(p) > len(prefix) + 2 and p[:len(prefix)] == prefix else None
        if nested and nested[-1] == "[]" and "[]" not in nested[len(prefix):-1] \
                and not any(i["linkId"] == text_of(nested) for i in items):
            items.append(_list_group(kb, fields, nested))
    return {"linkId": text_of(prefix), "type": "group", "repeats": True,
            "text": f"{sub.get('description', _words(prefix[-2]))}" + (f" (read by {', '.join(read_by)})" if read_by else "")
                    + f" [{text_of(prefix[:-1])}]",
            "item": items}


def _with_required(kb: KnowledgeBase, item: dict, pattern: Pattern) -> dict:
    if _required_here(kb, pattern):
        item["required"] = True
    return item


@functools.lru_cache(maxsize=None)
def _questionnaire(policy: str) -> dict:
    kb = knowledge_base(policy)
    fields = reads(policy)
    groups: dict[str, list[dict]] = defaultdict(list)
    lists: list[dict] = []
    for p, info in fields.items():
        if "[]" in p:  # a field of a list's items: asked in the list's repeating group
            prefix = p[:p.index("[]") + 1]
            if p[-1] != "[]" and _is_object_list(kb, prefix[:-1]) \
                    and not any(g["linkId"] == text_of(prefix) for g in lists):
                lists.append(_list_group(kb, fields, prefix))
            continue
        # What every case must say comes first, with what classifies the request.
        where = info["criteria"][0] if info["criteria"] and not _required_here(kb, p) else REQUEST_GROUP
        if _is_object_list(kb, p):
            groups[where].append(_none_item(kb, p))
            if not any(g["linkId"] == text_of(p + ("[]",)) for g in lists):
                lists.append(_list_group(kb, fields, p + ("[]",)))
            continue
        groups[where].append(_with_required(kb, _answer_item(kb, p, info), p))
        if _sub(kb.schema, p).get("type") == "array":
            groups[where].append(_none_item(kb, p))
    items = []
    if groups.get(REQUEST_GROUP):
        items.append({"linkId": REQUEST_GROUP, "type": "group", "text": "The request", "item": groups[REQUEST_GROUP]})
    for criterion in sorted((g for g in groups if g != REQUEST_GROUP), key=clause_order):
        group = {"linkId": f"criterion:{criterion}", "type": "group", "prefix": criterion,
                 "text": kb.clauses[criterion], "item": groups[criterion]}
        # Shown when any criterion above a node reading one of its fields can be listed.
        within = [fields[tuple(re.findall(r"[^.\[\]]+|\[\]", item["linkId"].removesuffix(NONE)))].get("within", set())
                  for item in groups[criterion]]
        condition = enable_when(policy, set().union(*within)) if all(within) else None
        if condition:
            group["enableWhen"], group["enableBehavior"] = condition
        items.append(group)
    items += lists
    return {
        "resourceType": "Questionnaire",
        "id": _fhir_id(kb.id),
        "url": canonical(kb.id),
        "version": kb.revision,
        "name": re.sub(r"[^A-Za-z0-9_]", "_", kb.id),
        "title": f"{kb.id}: {kb.title}",
        "status": "active",
        "subjectType": ["Patient"],
        "description": f"The documentation {kb.id} (revision {kb.revision}) reads, generated from its rules "
                       f"({kb.digest}); each group is a criterion in the policy's words.",
        "item": items,
    }


def _fhir_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9\-.]", "-", text)[:64]


def questionnaire(policy: str = DEFAULT_POLICY) -> dict:
    import copy
    return copy.deepcopy(_questionnaire(policy))


def item_index(policy: str) -> dict[str, dict]:
    """Every item of the questionnaire by linkId."""
    out = {}

    def visit(items):
        for item in items:
            out[item["linkId"]] = item
            visit(item.get("item", []))

    visit(_questionnaire(policy)["item"])
    return out


def validate_fhir(resource: dict) -> None:
    """Raise unless the resource is valid FHIR (fhir.resources' R4B models: R4's Questionnaire and response)."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


# ---------------------------------------------------------------------------- responses and cases

class ResponseError(ValueError):
    """A QuestionnaireResponse that cannot be read as a case: (path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {m}" for p, m in errors))


def policy_of(qr: dict) -> str:
    from .knowledge import policies

    ref = qr.get("questionnaire") or canonical(DEFAULT_POLICY)
    if not isinstance(ref, str):
        raise ResponseError([("questionnaire", "a canonical URL of a kbquery Questionnaire")])
    name = ref.split("|")[0].rstrip("/").rsplit("/", 1)[-1]
    if name.startswith("#"):  # a contained questionnaire ($next-question): the policy it came from
        name = next((c.get("url", "").rsplit("/", 1)[-1] for c in qr.get("contained", []) if isinstance(c, dict)
                     and "#" + str(c.get("id")) == name), "")
    if name not in policies():
        raise ResponseError([("questionnaire", f"{ref[:100]!r} is not a questionnaire of this service "
                                               f"(known: {', '.join(canonical(p) for p in policies())})")])
    return name


def _answer_value(answer: dict, item: dict, where: str):
    kind = item.get("type")
    key = {"date": "valueDate", "integer": "valueInteger", "boolean": "valueBoolean", "string": "valueString",
           "choice": "valueCoding"}.get(kind)
    if not isinstance(answer, dict) or key not in answer:
        raise ResponseError([(where, f"an answer of {item['linkId']} is a {key}")])
    value = answer[key]
    return value.get("code") if kind == "choice" and isinstance(value, dict) else value


def case_from_response(qr: Any) -> tuple[dict, str]:
    """(case, policy) from a QuestionnaireResponse; the case is validated later, as any case."""
    if not isinstance(qr, dict) or qr.get("resourceType") != "QuestionnaireResponse":
        raise ResponseError([("resourceType", "a QuestionnaireResponse")])
    policy = policy_of(qr)
    index = item_index(policy)
    identifier = qr.get("identifier")
    case_id = (identifier.get("value") if isinstance(identifier, dict) else None) or qr.get("id") or "questionnaire-response"
    case: dict = {"case_id": case_id, "policy": policy}
    errors: list[tuple[str, str]] = []

    def put(keys: tuple, value) -> None:
        target = case
        for k, nxt in zip(keys[:-1], keys[1:]):
            if isinstance(k, int):
                while len(target) <= k:
                    target.append({})
                target = target[k]
            else:
                target = target.setdefault(k, [] if isinstance(nxt, int) else {})
        target[keys[-1]] = value

    def concrete(pattern: str, indices: list[int]) -> tuple:
        keys, it = [], iter(indices)
        for part in re.findall(r"[^.\[\]]+|\[\]", pattern):
            keys.append(next(it) if part == "[]" else part)
        return tuple(keys)

    def visit(items: Any, indices: list[int], counters: dict, where: str) -> None:
        if not isinstance(items, list):
            errors.append((where, "a list of items"))
            return
        for n, given in enumerate(items):
            here = f"{where}[{n}]"
            link = given.get("linkId") if isinstance(given, dict) else None
            item = index.get(link) if isinstance(link, str) else None
            if item is None:
                errors.append((f"{here}.linkId", f"{str(link)[:60]!r} is not an item of {canonical(policy)}"))
                continue
            if item["type"] == "group":
                if item.get("repeats"):  # one instance of a list item
                    depth = link.count("[]")
                    key = (tuple(indices[:depth - 1]), link)
                    counters[key] = counters.get(key, -1) + 1
                    visit(given.get("item", []), indices[:depth - 1] + [counters[key]], counters, f"{here}.item")
                else:
                    visit(given.get("item", []), indices, counters, f"{here}.item")
                continue
            answers = given.get("answer", [])
            if not isinstance(answers, list):
                errors.append((f"{here}.answer", "a list of answers"))
                continue
            try:
                values = [_answer_value(a, item, f"{here}.answer[{i}]") for i, a in enumerate(answers)]
            except ResponseError as e:
                errors.extend(e.errors)
                continue
            if not values:
                continue
            if link.endswith(NONE):
                if values[0] is True:
                    put(concrete(link[:-len(NONE)], indices), [])
            elif item.get("repeats"):
                put(concrete(link, indices), values)
            else:
                put(concrete(link, indices), values[0])

    visit(qr.get("item", []), [], {}, "item")
    if errors:
        raise ResponseError(errors)
    return case, policy


def response_from_case(case: dict, policy: str | None = None) -> dict:
    """A case as a QuestionnaireResponse to the policy's questionnaire: every field it reads that
    the case documents (the others are not asked)."""
    policy = policy or case.get("policy", DEFAULT_POLICY)
    q = _questionnaire(policy)

    def concrete(pattern: str, indices: list[int]) -> tuple:
        it = iter(indices)
        return tuple(next(it) if part == "[]" else part for part in re.findall(r"[^.\[\]]+|\[\]", pattern))

    def answers(item: dict, value) -> list[dict]:
        values = value if item.get("repeats") else [value]
        key = {"date": "valueDate", "integer": "valueInteger", "boolean": "valueBoolean", "string": "valueString"}
        if item["type"] == "choice":
            system = item["answerOption"][0]["valueCoding"]["system"]
            return [{"valueCoding": {"system": system, "code": v, "display": _words(v)}} for v in values]
        return [{key[item["type"]]: v} for v in values]

    def fill(items: list[dict], indices: list[int]) -> list[dict]:
        out = []
        for item in items:
            link = item["linkId"]
            if item["type"] == "group" and item.get("repeats"):
                listed = value_at(case, concrete(link[:-2], indices))
                for i in range(len(listed) if isinstance(listed, list) else 0):
                    out.append({"linkId": link, "item": fill(item.get("item", []), indices + [i])})
            elif item["type"] == "group":
                inner = fill(item.get("item", []), indices)
                if inner:
                    out.append({"linkId": link, "text": item.get("text"), "item": inner})
            elif link.endswith(NONE):
                if value_at(case, concrete(link[:-len(NONE)], indices)) == []:
                    out.append({"linkId": link, "answer": [{"valueBoolean": True}]})
            else:
                value = value_at(case, concrete(link, indices))
                if value is not None and value != []:
                    out.append({"linkId": link, "answer": answers(item, value)})
        return out

    return {"resourceType": "QuestionnaireResponse", "identifier": {"value": case.get("case_id", "case")},
            "questionnaire": q["url"], "status": "completed", "item": fill(q["item"], [])}


# ---------------------------------------------------------------------------- $next-question

def next_question(qr: dict, decide_case) -> dict:
    """SDC $next-question: the response returned with the next question the knowledge base needs
    (in a contained Questionnaire), or completed with the determination once it is settled or
    nothing it needs is left to ask (an item given without an answer is not known: not asked again).
    `decide_case(case)` decides a case (the service's own path, with its validation)."""
    case, policy = case_from_response(qr)
    index = item_index(policy)
    out = {k: v for k, v in qr.items() if k not in ("contained", "extension")}
    out["questionnaire"] = canonical(policy)
    unanswered = [i for i in _leaves(_questionnaire(policy)["item"]) if i.get("required")
                  and "[]" not in i["linkId"] and _missing(case, i["linkId"])]
    if unanswered:  # what every case must say, before anything is decided
        return _asking(out, unanswered[0], unanswered[0]["linkId"], policy)
    d = decide_case(case)
    settled = d.determination != "more_information_needed"
    skipped = _unanswered(qr.get("item", []))  # asked, and left unanswered: not known, not asked again
    paths = [p for cid in d.missing for p in d.missing[cid]]
    for path in paths:
        link = re.sub(r"\[\d+\]", "[]", path)
        item = index.get(link) or index.get(link + NONE)
        if item is not None and not settled and item["linkId"] not in skipped:
            return _asking(out, item, path, policy)
    out["status"] = "completed"
    out["extension"] = [{"url": DETERMINATION_EXT, "valueCode": d.determination}]
    return out


def _unanswered(items: Any) -> set[str]:
    out: set[str] = set()
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            if not item.get("answer") and not item.get("item") and isinstance(item.get("linkId"), str):
                out.add(item["linkId"])
            out |= _unanswered(item.get("item", []))
    return out


def _leaves(items: list[dict]) -> list[dict]:
    out = []
    for item in items:
        out += _leaves(item.get("item", [])) if item["type"] == "group" else [item]
    return out


def _missing(case: dict, link: str) -> bool:
    v: Any = case
    for k in link.split("."):
        if not isinstance(v, dict) or k not in v:
            return True
        v = v[k]
    return False


def _asking(out: dict, item: dict, path: str, policy: str) -> dict:
    q = _questionnaire(policy)
    out["status"] = "in-progress"
    out["contained"] = [{"resourceType": "Questionnaire", "id": "next", "url": q["url"], "status": "active",
                         "item": [item]}]
    out["extension"] = [{"url": NEXT_PATH_EXT, "valueString": path}]
    return out
