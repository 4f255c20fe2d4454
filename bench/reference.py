"""An independent, plain-Python reading of MC.CP.MP.166 (revision 12/25): the test oracle.

    reference_decision(case) -> {"determination", "request_kind", "unmet"}
    random_case(rng)         -> a valid random case exercising every section

Written from the policy text (../shared/policy/MC.CP.MP.166.txt), the case format and
determination contract (../shared/spec/), and the DEFAULT readings of the interpretations
register (`kbquery readings`), without looking at the clingo rules. Only the default
readings are supported. No clingo, no kbquery import: this module is also the speed yardstick
of the benchmark, so it stays small and direct.

Three-valued (Kleene) logic is encoded as integers: MET = 1, UNKNOWN = 0, NOT_MET = -1, so a
conjunction is `min` and a disjunction is `max`.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

MET, UNKNOWN, NOT_MET = 1, 0, -1

# Coding Implications: 27096 and G0260 support coverage (SIJ injection); 64451 is the
# sacroiliac nerve block (VI), 64625 the radiofrequency ablation (VII).
SIJ_CODES = frozenset(("27096", "G0260"))
NERVE_BLOCK = "64451"
NEUROTOMY = "64625"

# The policy's outline order, in which `unmet` is listed.
ORDER = ("I.A", "I.B", "I.C", "I.D", "I.E", "I.F", "I.G", "I.G.1.a", "I.G.1.b", "I.G.1.c",
         "I.G.2.a", "I.G.2.b", "II", "II.A", "II.B", "III.A", "III.B", "III.C", "III.D", "IV",
         "V.A", "V.B", "V.C", "V.C.1", "V.C.2", "V.C.3", "V.D", "VI", "VII")

PROVOCATION_TESTS = ("distraction", "compression", "thigh_thrust", "gaenslen", "faber", "sacral_thrust")
_DIAGNOSTIC_KINDS = frozenset(("initial_diagnostic", "second_diagnostic", "third_diagnostic"))
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_D = date.fromisoformat


def _bool(value):
    """A documented boolean: true -> MET, false -> NOT_MET, absent -> UNKNOWN."""
    if value is None:
        return UNKNOWN
    return MET if value else NOT_MET


def _neg(value):
    return -value


def _dim(y: int, m: int) -> int:
    if m == 2 and (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
        return 29
    return _DAYS_IN_MONTH[m - 1]


def add_months(d: date, n: int) -> date:
    """Register, reading months=calendar_months: N months have passed on the same day of the
    month N months later; a day the target month lacks rolls to the 1st of the next month
    (2024-02-29 + 12 months = 2025-03-01; 2025-11-30 + 3 months = 2026-03-01)."""
    m0 = d.month - 1 + n
    y, m = d.year + m0 // 12, m0 % 12 + 1
    if d.day <= _dim(y, m):
        return date(y, m, d.day)
    return date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)


# ---------------------------------------------------------------------------------------------
# Relief computed from dated scores (case format: relief = (before - score) / before, same scale)
# ---------------------------------------------------------------------------------------------

def _same_scale(series_scale, baseline_scale):
    """'measured by the SAME pain scale at baseline' (I.G.2.a; also III.A per the case format)."""
    if series_scale is None or baseline_scale is None:
        return UNKNOWN
    return MET if series_scale == baseline_scale else NOT_MET


def positive_diagnostic_response(proc: dict, baseline_scale) -> int:
    """I.G.2.a and its Note, II.A, IV; reading diagnostic_documentation=day_of_and_following_window:
    a pre-injection score on the day, a post-injection score on the injection day, one on a later
    day within 14 days, every score in [day, day + 14] at least 75% relief, on the baseline scale.
    A pre-injection score of 0 leaves relief undefined: no relief is shown (not met).
    Reading attributable_relief=given_alone_only: the injection must have been given without other
    lumbosacral injections in its session, or its relief is not the SIJ injection's (I.G.1.c)."""
    alone = _neg(_bool(proc.get("other_lumbosacral_injections_same_session")))
    pain = proc.get("pain")
    if pain is None:
        return min(alone, UNKNOWN)
    scale = _same_scale(pain.get("scale"), baseline_scale)
    before = pain.get("before")
    after = pain.get("after")
    if after is None:
        return min(alone, scale, UNKNOWN)
    day = _D(proc["date"])
    end = day + timedelta(days=14)
    same_day = following = False
    window = []
    for a in after:
        ad = _D(a["date"])
        if ad == day:
            same_day = True
        elif ad <= end:
            following = True
        else:
            continue
        window.append(a["score"])
    documented = MET if (same_day and following) else NOT_MET
    if not window:
        relief = MET
    elif before is None:
        relief = UNKNOWN
    elif before <= 0:
        relief = NOT_MET  # no pain before the injection: no relief can be shown
    else:
        # relief >= 75%  <=>  (before - s) / before >= 3/4  <=>  4 (before - s) >= 3 before
        relief = MET if all(4 * (before - s) >= 3 * before for s in window) else NOT_MET
    return min(alone, scale, documented, relief)


def sustained_fifty(series, start: date) -> int:
    """III.A, V.B, V.C.3: 'at least 50% ... consistent ... for at least three months' from the
    proximate injection; reading sustained_period=cover_three_months: a score at or after three
    calendar months, and every score up to and including the first such score at least 50%
    better than the injection's own pre-injection score (reading proximate_injection)."""
    if series is None:
        return UNKNOWN
    after = series.get("after")
    if after is None:
        return UNKNOWN
    mark = add_months(start, 3)
    dated = [(_D(a["date"]), a["score"]) for a in after]
    late = [d for d, _ in dated if d >= mark]
    if not late:
        return NOT_MET
    first = min(late)
    before = series.get("before")
    if before is None:
        return UNKNOWN
    if before <= 0:
        return NOT_MET  # nothing to improve on: no improvement can be shown
    # relief >= 50%  <=>  2 (before - s) >= before
    return MET if all(2 * (before - s) >= before for d, s in dated if d <= first) else NOT_MET


# ---------------------------------------------------------------------------------------------
# Section I general criteria (reading general_criteria=all_sij_requests: every SIJ request)
# ---------------------------------------------------------------------------------------------

def _crit_IA(req):
    """I.A one injection per visit; reading bilateral_injection=two_injections."""
    side = req.get("side")
    if side is None:
        return UNKNOWN
    return NOT_MET if side == "bilateral" else MET


_SEVERITY = {"none": NOT_MET, "mild": NOT_MET, "moderate": MET, "severe": MET}


def _crit_IB(pain, rdate):
    """I.B moderate to severe, primarily over the SI joints, for at least three months.
    Reading severity_from_score=nrs_bands: 0 none, 1-3 mild, 4-6 moderate, 7-10 severe; a
    documented severity wins over the score. Reading months: calendar months."""
    sev = pain.get("severity")
    if sev is not None:
        severity = _SEVERITY[sev]
    else:
        score = pain.get("score")
        severity = UNKNOWN if score is None else (MET if score >= 4 else NOT_MET)
    onset = pain.get("onset_date")
    duration = UNKNOWN if onset is None else (MET if add_months(_D(onset), 3) <= rdate else NOT_MET)
    return min(severity, _bool(pain.get("primarily_over_sij")), duration)


def _crit_IC(pain):
    """I.C low back pain below L5 without radiculopathy."""
    return min(_bool(pain.get("below_l5")), _neg(_bool(pain.get("radiculopathy"))))


def _crit_ID(tests):
    """I.D at least three positive provocation tests. Reading provocation_documentation=
    unlisted_is_unknown; reading thrust_tests=count_with_warning (thrust tests count)."""
    if tests is None:
        tests = {}
    positive = sum(1 for v in tests.values() if v == "positive")
    if positive >= 3:
        return MET
    unlisted = sum(1 for t in PROVOCATION_TESTS if tests.get(t) is None)
    return NOT_MET if positive + unlisted < 3 else UNKNOWN


def _crit_IE(ct, rdate):
    """I.E failure of at least four weeks of conservative therapy. Reading weeks=days: 28 days
    counting first and last day, an ongoing therapy (no end date) counting to the request date.
    Reading conservative_therapy=medication_plus_one (the Note under I.E)."""
    start = ct.get("start_date")
    if start is None:
        length = UNKNOWN
    else:
        end = ct.get("end_date")
        last = rdate if end is None else _D(end)
        length = MET if (last - _D(start)).days + 1 >= 28 else NOT_MET
    mods = ct.get("modalities")
    if mods is None:
        combination = UNKNOWN
    else:
        combination = MET if ("medication" in mods and len(mods) >= 2) else NOT_MET
    outcome = ct.get("outcome")
    failed = UNKNOWN if outcome is None else (MET if outcome == "failed" else NOT_MET)
    return min(length, combination, failed)


def _crit_IF(other_causes):
    """I.F no other diagnosed or obvious cause; [] documents none, absent is unknown."""
    if other_causes is None:
        return UNKNOWN
    return NOT_MET if other_causes else MET


def _crit_guidance(req, member):
    """I.G.1.a / I.G.2.b: CT or fluoroscopy with contrast, or ultrasound when a contrast allergy
    or pregnancy is documented (reading ultrasound_contrast=not_required). Evaluated in Kleene
    logic over the guidance value, so an undocumented guidance is unknown unless no value could
    meet it."""
    g = req.get("guidance")
    contrast = _bool(req.get("contrast"))
    exception = max(_bool(member.get("contrast_allergy")), _bool(member.get("pregnant")))
    if g is None:
        return max(min(UNKNOWN, contrast), min(UNKNOWN, exception))
    if g == "fluoroscopy" or g == "ct":
        return contrast
    if g == "ultrasound":
        return exception
    return NOT_MET  # no image guidance


# ---------------------------------------------------------------------------------------------
# The decision
# ---------------------------------------------------------------------------------------------

_RANK = {c: i for i, c in enumerate(ORDER)}


# The criteria nested in another: the branches of I.G and the rationales of V.C.
_PARENT = {"I.G.1.a": "I.G", "I.G.1.b": "I.G", "I.G.1.c": "I.G", "I.G.2.a": "I.G", "I.G.2.b": "I.G",
           "V.C.1": "V.C", "V.C.2": "V.C", "V.C.3": "V.C"}


def _result(determination, kind, status, governing):
    """`unmet`: the not-met criteria a denial rests on: a governing one, or one nested in a
    governing criterion that is itself not met (a failed alternative of a met V.C is not)."""
    unmet = []
    if determination == "not_medically_necessary":
        unmet = [c for c, v in status.items() if v == NOT_MET and (
            c in governing or (_PARENT.get(c) in governing and status.get(_PARENT[c]) == NOT_MET))]
    unmet.sort(key=_RANK.__getitem__)
    return {"determination": determination, "request_kind": kind, "unmet": unmet}


def reference_decision(case: dict) -> dict:
    """The determination for a schema-valid case under the default readings."""
    req = case["request"]
    code = req["code"]
    # VI / VII: decided by the code alone.
    if code == NERVE_BLOCK:
        return {"determination": "not_medically_necessary", "request_kind": "nerve_block", "unmet": ["VI"]}
    if code == NEUROTOMY:
        return {"determination": "not_medically_necessary", "request_kind": "radiofrequency_neurotomy", "unmet": ["VII"]}
    if code not in SIJ_CODES:
        return {"determination": "not_addressed", "request_kind": "out_of_scope", "unmet": []}

    rdate = _D(req["date"])
    member = case.get("member") or {}
    pain = case.get("pain") or {}
    purpose = req.get("purpose")
    priors = case.get("prior_procedures")

    # Reading prior_code=sij_injection: a prior procedure without a code is an SIJ injection;
    # with another code (nerve block, ablation, ...) it is not.
    sij = None
    if priors is not None:
        sij = sorted((p for p in priors if p.get("code") is None or p.get("code") in SIJ_CODES),
                     key=lambda p: p["date"])
    diagnostics = [p for p in sij if p.get("purpose") == "diagnostic"] if sij is not None else []
    therapeutics = [p for p in sij if p.get("purpose") == "therapeutic"] if sij is not None else []

    # --- the kind of request (I.G.1 / I.G.2, II, III, V) ---
    if purpose is None or sij is None or any(p.get("purpose") is None for p in sij):
        kind = "unclassified"
    elif purpose == "diagnostic":
        kind = ("initial_diagnostic", "second_diagnostic", "third_diagnostic")[min(len(diagnostics), 2)]
    elif not therapeutics:
        kind = "initial_therapeutic"
    else:
        # Reading continuation_split=v_after_anniversary: after the 12-month anniversary of the
        # episode's first therapeutic injection the request is a continuation (V); up to and on it,
        # a repeat (III).
        first_ther = _D(therapeutics[0]["date"])
        kind = "continuation" if rdate > add_months(first_ther, 12) else "repeat_therapeutic"

    s = {}
    # --- I.A-I.F: every SIJ request (reading general_criteria=all_sij_requests) ---
    s["I.A"] = _crit_IA(req)
    s["I.B"] = _crit_IB(pain, rdate)
    s["I.C"] = _crit_IC(pain)
    s["I.D"] = _crit_ID(case.get("provocation_tests"))
    s["I.E"] = _crit_IE(case.get("conservative_therapy") or {}, rdate)
    s["I.F"] = _crit_IF(case.get("other_causes"))
    governing = ["I.A", "I.B", "I.C", "I.D", "I.E", "I.F", "I.G"]

    baseline_scale = pain.get("scale")
    guidance = _crit_guidance(req, member)
    same_session = _neg(_bool(req.get("other_lumbosacral_injections_same_session")))
    if kind == "unclassified":
        # I.G 'including one of the following': which branch (and which section) governs is
        # open, so I.G is at best unknown; but in Kleene logic it is not met when it fails
        # under every purpose the undocumented facts could have. IV likewise.
        s["I.G"], iv = _unclassified_IG_IV(purpose, sij, guidance, same_session, baseline_scale)
        # A documented purpose names the branch: its criteria on the request itself are listed.
        if purpose == "diagnostic":
            s["I.G.1.a"], s["I.G.1.b"] = guidance, same_session
        elif purpose == "therapeutic":
            s["I.G.2.b"] = guidance
        if iv is not None:
            s["IV"] = iv
            governing.append("IV")
    elif kind in _DIAGNOSTIC_KINDS:
        # I.G.1 Diagnostic SIJ injections.
        s["I.G.1.a"] = guidance
        s["I.G.1.b"] = same_session
        s["I.G.1.c"] = _crit_IG1c(diagnostics)
        s["I.G"] = min(s["I.G.1.a"], s["I.G.1.b"], s["I.G.1.c"])
    else:
        # I.G.2 Therapeutic SIJ injections. Reading diagnostic_relied_on=first_then_iv: the
        # diagnostic injection of I.G.2.a is the first one.
        s["I.G.2.a"] = positive_diagnostic_response(diagnostics[0], baseline_scale) if diagnostics else NOT_MET
        s["I.G.2.b"] = guidance
        s["I.G"] = min(s["I.G.2.a"], s["I.G.2.b"])

    if kind == "second_diagnostic":
        # II.A pain improved >= 75% after the first diagnostic injection (same documentation
        # reading as I.G.2.a); II.B two weeks (14 days, reading weeks) since the initial injection.
        first = diagnostics[0]
        s["II.A"] = positive_diagnostic_response(first, baseline_scale)
        s["II.B"] = MET if (rdate - _D(first["date"])).days >= 14 else NOT_MET
        governing += ["II.A", "II.B"]
    elif kind == "third_diagnostic":
        # Reading third_diagnostic=not_medically_necessary: II provides for one confirmatory
        # diagnostic injection only.
        s["II"] = NOT_MET
        governing.append("II")

    if kind != "unclassified" and len(diagnostics) >= 2 and kind not in ("initial_diagnostic", "second_diagnostic"):
        # IV: if pain does not improve >= 75% after the second diagnostic injection, subsequent
        # SIJ injections are not medically necessary (same documentation reading as I.G.2.a).
        s["IV"] = positive_diagnostic_response(diagnostics[1], baseline_scale)
        governing.append("IV")

    if kind == "repeat_therapeutic" or kind == "continuation":
        # Reading proximate_injection=most_recent_therapeutic. III.A / V.B: 50% pain relief
        # 'using the same pain scale' as the baseline (pain.scale), or 50% improvement in function
        # on an objective scale: the function series must name its scale (this oracle's own
        # reading; the register is silent), its scores compared with its own baseline.
        proximate = therapeutics[-1]
        pdate = _D(proximate["date"])
        ppain = proximate.get("pain")
        pain_relief = min(_same_scale(ppain.get("scale") if ppain else None, baseline_scale),
                          sustained_fifty(ppain, pdate))
        function = proximate.get("function")
        function_scale = UNKNOWN if function is None or function.get("scale") is None else MET
        improvement = max(pain_relief, min(function_scale, sustained_fifty(function, pdate)))

    if kind == "repeat_therapeutic":
        # III.A 50% pain relief or 50% function improvement for three months.
        s["III.A"] = improvement
        # III.B with other noninvasive treatment, not stand-alone.
        s["III.B"] = _bool(req.get("with_noninvasive_treatment"))
        # III.C at least two calendar months since the most recent earlier SIJ injection of any
        # purpose (reading injection_interval=since_last_sij_injection).
        latest = _D(sij[-1]["date"])
        s["III.C"] = MET if add_months(latest, 2) <= rdate else NOT_MET
        s["III.D"] = _crit_IIID(req, therapeutics, rdate)
        governing += ["III.A", "III.B", "III.C", "III.D"]
    elif kind == "continuation":
        cont = case.get("continuation") or {}
        # V.A significant disability and objective scales/goals.
        s["V.A"] = min(_bool(cont.get("significant_disability")), _bool(cont.get("objective_scales_and_goals")))
        # V.B at least 50% sustained improvement of pain and/or function for three months.
        s["V.B"] = improvement
        # V.C rationale, one of C.1-C.3 (reading continuation_rationale=listed_only).
        s["V.C.1"] = _bool(member.get("high_risk_surgical_candidate"))
        s["V.C.2"] = _bool(member.get("declines_surgery"))
        # V.C.3, reading recurrence_relief=fifty_percent_same_side: 50% pain relief sustained three
        # months from the proximate therapeutic injection, given on the side now requested.
        s["V.C.3"] = min(pain_relief, _given_on_requested_side(proximate.get("side"), req.get("side")))
        s["V.C"] = max(s["V.C.1"], s["V.C.2"], s["V.C.3"])
        # V.D primary care provider notified (reading pcp_notification=required).
        s["V.D"] = _bool(cont.get("pcp_notified"))
        governing += ["V.A", "V.B", "V.C", "V.D"]

    worst = min(s[c] for c in governing)
    if worst == NOT_MET:
        determination = "not_medically_necessary"
    elif worst == UNKNOWN:
        determination = "more_information_needed"
    elif kind == "continuation":
        determination = "case_by_case_review"  # V: considered on a case-by-case basis
    else:
        determination = "medically_necessary"
    return _result(determination, kind, s, governing)


def _crit_IG1c(diagnostics):
    """I.G.1.c direct causal benefit; reading causal_benefit=earlier_diagnostic_injections: every
    earlier diagnostic SIJ injection was given without other lumbosacral injections in its
    session (met when there is none)."""
    c = MET
    for p in diagnostics:
        c = min(c, _neg(_bool(p.get("other_lumbosacral_injections_same_session"))))
    return c


_MAX_OPEN_PURPOSES = 10  # beyond 2**10 completions, fall back to plain `unknown`


def _unclassified_IG_IV(purpose, sij, guidance, same_session, baseline_scale):
    """I.G and IV for a request whose kind is open (request purpose, the history or an earlier
    SIJ injection's purpose undocumented). Each undocumented purpose may be either value; I.G is
    NOT_MET when it is not met in every completion, otherwise UNKNOWN (never MET: the section
    that governs is open). IV is evaluated (returned non-None) when every completion has at least
    two diagnostic injections, i.e. at least two are documented, and is NOT_MET / MET when it is
    so in every completion."""
    purposes = (purpose,) if purpose is not None else ("diagnostic", "therapeutic")
    if sij is None:
        # History undocumented: I.G.1.c (empty history) and I.G.2.a (a positive diagnostic
        # injection) could each be met, so only the request's own parts can fail every completion.
        fails = all((min(guidance, same_session) if p == "diagnostic" else guidance) == NOT_MET
                    for p in purposes)
        return (NOT_MET if fails else UNKNOWN), None
    open_idx = [i for i, p in enumerate(sij) if p.get("purpose") is None]
    if len(open_idx) > _MAX_OPEN_PURPOSES:
        return UNKNOWN, None
    response = {}

    def pos(i):
        if i not in response:
            response[i] = positive_diagnostic_response(sij[i], baseline_scale)
        return response[i]

    ig_values = set()
    iv_values = set()
    for mask in range(1 << len(open_idx)):
        diag_set = {open_idx[j] for j in range(len(open_idx)) if mask >> j & 1}
        diag = [i for i, p in enumerate(sij) if p.get("purpose") == "diagnostic" or i in diag_set]
        for p in purposes:
            if p == "diagnostic":
                ig_values.add(min(guidance, same_session, _crit_IG1c([sij[i] for i in diag])))
            else:
                ig_values.add(min(pos(diag[0]) if diag else NOT_MET, guidance))
        iv_values.add(pos(diag[1]) if len(diag) >= 2 else None)
    ig = NOT_MET if ig_values == {NOT_MET} else UNKNOWN
    if None in iv_values:
        iv = None
    else:
        iv = iv_values.pop() if len(iv_values) == 1 else UNKNOWN
    return ig, iv


def _given_on_requested_side(given, requested):
    """Reading same_site: every joint requested was injected by the earlier injection (a bilateral
    one injected both): III.D's same site as the initial injection, V.C.3's same location."""
    if given is None or requested is None:
        return UNKNOWN
    if given == requested or given == "bilateral":
        return MET
    return NOT_MET


def _at_site(side, site):
    """Reading same_site: a bilateral injection counts at the left and at the right site."""
    if side is None:
        return UNKNOWN
    return MET if (side == site or side == "bilateral") else NOT_MET


def _crit_IIID(req, therapeutics, rdate):
    """III.D same anatomic site as the initial therapeutic injection, and fewer than four
    therapeutic SIJ injections at that site in the last 12 months (reading same_site: the
    requested injection not counted; one dated exactly 12 months before is outside)."""
    side = req.get("side")
    same = _given_on_requested_side(therapeutics[0].get("side"), side)
    recent = [p.get("side") for p in therapeutics if add_months(_D(p["date"]), 12) > rdate]

    def fewer_than_four(site):
        sure = sum(1 for sd in recent if _at_site(sd, site) == MET)
        maybe = sum(1 for sd in recent if _at_site(sd, site) == UNKNOWN)
        if sure >= 4:
            return NOT_MET
        return MET if sure + maybe < 4 else UNKNOWN

    if side is None:
        # The site is undocumented: the count is settled only if it is the same for every side.
        outcomes = {fewer_than_four("left"), fewer_than_four("right"),
                    min(fewer_than_four("left"), fewer_than_four("right"))}
        count = outcomes.pop() if len(outcomes) == 1 else UNKNOWN
    elif side == "bilateral":
        count = min(fewer_than_four("left"), fewer_than_four("right"))
    else:
        count = fewer_than_four(side)
    return min(same, count)


# ---------------------------------------------------------------------------------------------
# Random valid cases
# ---------------------------------------------------------------------------------------------

_BASE = date(2026, 3, 2).toordinal()
_MONTH_ENDS = tuple(date(*ymd).toordinal() for ymd in
                    ((2024, 2, 29), (2023, 11, 30), (2024, 1, 31), (2024, 8, 31), (2023, 12, 31), (2024, 5, 31)))
_OTHER_CODES = ("20610", "64490", "99213")
_CAUSES = ("central_stenosis_with_neurogenic_claudication", "myelopathy",
           "foraminal_stenosis_with_radicular_pain", "disc_herniation_with_radicular_pain",
           "infection", "tumor", "fracture", "pseudoarthrosis", "spinal_instrumentation_pain")
_OTHER_MODALITIES = ("physical_therapy", "spinal_manipulation", "cognitive_behavioral_therapy",
                     "home_exercise", "other")
_ABSENT = (0.0, 0.0, 0.0, 0.01, 0.04, 0.2)        # how much of the record is undocumented
_GOOD = (1.0, 0.995, 0.98, 0.95, 0.85, 0.6)       # how often a value is the passing one
_fromordinal = date.fromordinal


def _pickers(r):
    """Fast stand-ins for Random.choice and Random.randint built on Random.random alone (a
    million cases are generated for the benchmark)."""
    def choice(seq):
        return seq[int(r() * len(seq))]

    def randint(a, b):
        return a + int(r() * (b - a + 1))
    return choice, randint


_ISO: dict = {}
_MONTHS: dict = {}


def _iso(ordinal: int) -> str:
    text = _ISO.get(ordinal)
    if text is None:
        text = _ISO[ordinal] = _fromordinal(ordinal).isoformat()
    return text


def _months_after(ordinal: int, months: int, delta: int = 0) -> int:
    """The ordinal `months` calendar months after `ordinal` (negative: before), plus `delta` days."""
    key = (ordinal, months)
    target = _MONTHS.get(key)
    if target is None:
        target = _MONTHS[key] = add_months(_fromordinal(ordinal), months).toordinal()
    return target + delta


def random_case(rng: random.Random) -> dict:
    """A schema-valid case with values concentrated at the policy's thresholds: 14 days, 28 days,
    two, three and twelve calendar months (month ends and leap days included), 75% and 50%
    relief, three positive tests; every request kind; 0-6 prior procedures in any order, some
    without code or purpose, some nerve blocks; fields left out at a per-case rate."""
    r = rng.random
    choice, randint = _pickers(r)
    absent = choice(_ABSENT)
    good = choice(_GOOD)

    def has():
        return r() >= absent

    def ok():
        return r() < good

    # ---- the history, built forward in time with gaps at the thresholds ----
    first = choice(_MONTH_ENDS) if r() < 0.1 else _BASE - randint(300, 900)
    n_diag = choice((0, 1, 1, 1, 2, 2, 2, 3))
    n_ther = min(choice((0, 0, 1, 1, 2, 3, 4)) if n_diag < 3 else choice((0, 1)), 6 - n_diag)
    plan = ["diagnostic"] * n_diag + ["therapeutic"] * n_ther
    if len(plan) > 1 and r() < 0.1:
        rng.shuffle(plan)
    procs = []
    t = first
    for i, purpose in enumerate(plan):
        if i:
            u = r()
            if u < 0.35:
                t += choice((14, 15, 21, 28, 13))
            elif u < 0.8:
                t = _months_after(t, choice((2, 2, 3, 4)), choice((-1, 0, 0, 1, 10)))
            else:
                t += randint(14, 200)
        procs.append((t, purpose))
    # the request: at the 12-month anniversary of the first therapeutic injection, two months or
    # two weeks after the latest injection, or anywhere later
    last = procs[-1][0] if procs else first
    ther = [d for d, pu in procs if pu == "therapeutic"]
    u = r()
    if ther and u < 0.35:
        rq = _months_after(ther[0], 12, choice((-1, 0, 1, 2, 40)))
    elif u < 0.7:
        rq = _months_after(last, 2, choice((-1, 0, 0, 1, 30)))
    elif u < 0.85:
        rq = last + choice((0, 13, 14, 15))
    else:
        rq = last + randint(0, 400)
    rq = max(rq, last)
    procs = [(min(d, rq), pu) for d, pu in procs]

    # ---- request ----
    u = r()
    code = "27096" if u < 0.8 else "G0260" if u < 0.92 else NERVE_BLOCK if u < 0.95 else \
        NEUROTOMY if u < 0.98 else choice(_OTHER_CODES)
    if ther or (n_diag and r() < 0.5):
        rpurpose = "therapeutic" if r() < 0.85 else "diagnostic"
    else:
        rpurpose = "diagnostic" if r() < 0.8 else "therapeutic"
    request = {"date": _iso(rq), "code": code}
    if has():
        request["purpose"] = rpurpose
    if has():
        request["side"] = "left" if ok() else choice(("left", "right", "right", "bilateral"))
    if has():
        request["guidance"] = choice(("fluoroscopy", "ct")) if ok() else choice(("ultrasound", "ultrasound", "none"))
    if has():
        request["contrast"] = ok()
    if has():
        request["other_lumbosacral_injections_same_session"] = not ok()
    if has():
        request["with_noninvasive_treatment"] = ok()
    case = {"case_id": "random", "request": request}

    member = {}
    for key, p_true in (("pregnant", 0.1), ("contrast_allergy", 0.15), ("connective_tissue_disorder", 0.05),
                        ("high_risk_surgical_candidate", 0.4), ("declines_surgery", 0.4)):
        if has():
            member[key] = r() < p_true
    if member or r() < 0.5:
        case["member"] = member

    # ---- pain (I.B, I.C) ----
    scale = "NRS" if r() < 0.8 else "VAS"
    pain = {}
    if has():
        pain["severity"] = choice(("moderate", "severe")) if ok() else choice(("none", "mild", "moderate"))
    if has():
        pain["score"] = randint(4, 10) if ok() else randint(0, 5)
    if has():
        pain["scale"] = scale
    if has():
        pain["primarily_over_sij"] = ok()
    if has():
        if ok():
            onset = min(first, rq) - randint(100, 200) if r() < 0.7 else _months_after(rq, -3, choice((0, -1)))
        else:
            onset = _months_after(rq, -3, choice((1, 2, 30)))
        pain["onset_date"] = _iso(min(onset, rq))
    if has():
        pain["below_l5"] = ok()
    if has():
        pain["radiculopathy"] = not ok()
    if pain or r() < 0.5:
        case["pain"] = pain

    # ---- provocation tests (I.D) ----
    tests = {}
    p_pos = 0.75 if ok() else 0.3
    for name in PROVOCATION_TESTS:
        if r() < 0.8 and has():
            tests[name] = "positive" if r() < p_pos else choice(("negative", "not_done"))
    if tests or r() < 0.5:
        case["provocation_tests"] = tests

    # ---- conservative therapy (I.E): 28 days inclusive ----
    ct = {}
    start = min(first, rq) - randint(30, 120) if r() < 0.6 else rq - choice((26, 27, 28, 40))
    if has():
        ct["start_date"] = _iso(start)
    if has() and r() < 0.7:
        end = start + (choice((27, 40, 60)) if ok() else choice((25, 26)))
        ct["end_date"] = _iso(min(end, rq))
    if has():
        ct["modalities"] = ["medication", choice(_OTHER_MODALITIES)] if ok() else \
            [choice(("medication", "physical_therapy", "home_exercise"))]
    if has():
        ct["outcome"] = "failed" if ok() else "improved"
    if ct or r() < 0.5:
        case["conservative_therapy"] = ct
    if has():
        case["other_causes"] = [] if ok() else [choice(_CAUSES)]

    # ---- prior procedures ----
    if has():
        items = [_procedure(rng, d, pu, scale, rq, has, ok) for d, pu in procs]
        if len(items) < 6 and r() < 0.1:  # a nerve block or an ablation: not an SIJ injection (Coding Implications)
            items.append({"date": _iso(randint(min(first, rq), rq)), "code": choice((NERVE_BLOCK, NEUROTOMY)),
                          "purpose": choice(("diagnostic", "therapeutic")), "side": "left"})
        if len(items) > 1:
            rng.shuffle(items)
        case["prior_procedures"] = items
    if has():
        cont = {}
        for key in ("significant_disability", "objective_scales_and_goals", "pcp_notified"):
            if has():
                cont[key] = ok()
        case["continuation"] = cont
    if r() < 0.15:
        _perturb(case, r, choice)
    return case


_KEEP = frozenset(("case_id", "request", "date", "code", "score"))


def _perturb(case, r, choice):
    """Delete or flip one to three optional leaves anywhere in the case (still schema-valid):
    the single undocumented or contrary fact each criterion must react to."""
    slots = []
    request = case["request"]
    stack = [case]
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k not in _KEEP or (k == "code" and obj is not request):  # a prior's code is optional
                    slots.append((obj, k))
                if isinstance(v, (dict, list)):
                    stack.append(v)
        elif isinstance(obj, list):
            stack.extend(x for x in obj if isinstance(x, dict))
    for _ in range(1 + int(r() * 3)):
        if not slots:
            return
        obj, k = choice(slots)
        if k not in obj:
            continue
        v = obj[k]
        if isinstance(v, bool) and r() < 0.5:
            obj[k] = not v
        else:
            del obj[k]


def _procedure(rng, t, purpose, scale, rq, has, ok):
    r = rng.random
    choice, _ = _pickers(r)
    p = {"date": _iso(t)}
    u = r()
    if u < 0.8:
        p["code"] = "27096"
    elif u < 0.93:
        p["code"] = "G0260"      # else: no code, an SIJ injection (reading prior_code)
    if has():
        p["purpose"] = purpose
    if has():
        p["side"] = "left" if ok() else choice(("right", "bilateral"))
    if has():
        p["other_lumbosacral_injections_same_session"] = not ok()
    if has():
        series_scale = scale if ok() else choice(("NRS", "VAS", "ODI"))
        if purpose == "diagnostic":
            p["pain"] = _diagnostic_series(rng, t, series_scale, rq, has, ok)
        else:
            p["pain"] = _sustained_series(rng, t, series_scale, rq, has, ok)
    if purpose == "therapeutic" and r() < 0.6 and has():
        p["function"] = _sustained_series(rng, t, "ODI", rq, has, ok)
    return p


def _before(rng, scale):
    u = rng.random()
    if u < 0.01:
        return 0  # no pain before the injection: relief cannot be shown
    if scale == "NRS":
        return (6, 7, 8, 8, 9, 10)[int(u * 6)]
    return (20, 40, 60, 80, 100)[int(u * 5)]


def _series_start(rng, scale, has):
    """The scale and pre-injection score of a series, each documented or not."""
    r = rng.random
    choice, _ = _pickers(r)
    s = {}
    if has():
        s["scale"] = scale
    before = _before(rng, scale)
    if has():
        s["before"] = before
    return s, before, r, choice


def _diagnostic_series(rng, t, scale, rq, has, ok):
    """Scores around a diagnostic injection: the day itself, days 1-14 (the response window),
    day 15 and later; scores at the 75% mark (score <= before / 4) or just above it."""
    s, before, r, choice = _series_start(rng, scale, has)
    if has():
        mark = before // 4
        if ok():
            offsets = [0, choice((1, 2, 7, 13, 14))]
            if r() < 0.3:
                offsets.append(choice((3, 10)))
            scores = [max(mark - choice((0, 0, 1)), 0) for _ in offsets]
            if r() < 0.2:           # after the window: does not count
                offsets.append(choice((15, 20, 30)))
                scores.append(mark + 3)
        else:
            defect = choice(("no_same_day", "late_only", "high_same_day", "high_later", "empty"))
            offsets = {"no_same_day": [choice((1, 3)), 7], "late_only": [0, 15],
                       "high_same_day": [0, 7], "high_later": [0, choice((1, 14))], "empty": []}[defect]
            scores = [mark] * len(offsets)
            if defect == "high_same_day":
                scores[0] = mark + 1
            elif defect == "high_later":
                scores[1] = mark + 1
        s["after"] = [{"date": _iso(min(t + o, rq)), "score": sc} for o, sc in zip(offsets, scores)]
    return s


def _sustained_series(rng, t, scale, rq, has, ok):
    """Scores after a therapeutic injection: months 1-3 around the three-month mark, at the 50%
    mark (score <= before / 2) or just above it; a worse score after the first three-month one
    does not count."""
    s, before, r, choice = _series_start(rng, scale, has)
    if has():
        half = before // 2
        months = [m for m in (0, 1, 2) if r() < 0.5]
        dates = [_months_after(t, m) for m in months]
        if ok():
            dates.append(_months_after(t, 3, choice((0, 0, 1, 5))))
            scores = [max(half - choice((0, 0, 1)), 0) for _ in dates]
            if r() < 0.2:
                dates.append(dates[-1] + 20)
                scores.append(half + 2)
        else:
            defect = choice(("short", "high", "high_three_months"))
            dates.append(_months_after(t, 3, -1 if defect == "short" else 0))
            scores = [half] * len(dates)
            if defect == "high":
                scores[0] = half + 1
            elif defect == "high_three_months":
                scores[-1] = half + 1
        s["after"] = [{"date": _iso(min(d, rq)), "score": sc} for d, sc in zip(dates, scores)]
    return s


if __name__ == "__main__":  # python bench/reference.py [N]: the generator's and the oracle's speed
    import sys
    import time

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(0)
    t0 = time.perf_counter()
    cases = [random_case(rng) for _ in range(n)]
    t1 = time.perf_counter()
    for c in cases:
        reference_decision(c)
    t2 = time.perf_counter()
    print(f"random_case: {n / (t1 - t0):,.0f} cases/s; reference_decision: {n / (t2 - t1):,.0f} cases/s")
