#!/usr/bin/env python3
"""Validate a FHIR Bundle (JSON) of the soleus-api export (used by .ci/exports.py).

The exercise prescription is software-generated, so it is a ServiceRequest with
intent `proposal` and no requester, and claims no PA profile (pa-servicerequest
requires a requester); it is checked against the rest of pa-servicerequest.

Layer 1 - structure: the Bundle is parsed with fhir.resources' R4B models
(fhir.resources >= 7; tested with 8.3.0), then every entry.resource is parsed
again by the model class for its resourceType.  That catches unknown elements,
missing 1..1 core elements, bad primitive formats and choice-type clashes.  It
does NOT check code bindings, invariants or profiles.

Layer 2 - our own HL7 Physical Activity IG (STU1, 1.0.x) assertions, written
from the IG's FSH source (HL7/physical-activity, input/fsh/*.fsh).  They only
approximate what a real profile validator would do.

Usage:  /tmp/fhirvenv/bin/python validate.py bundle.json [--strict]
Exit 0 = no errors (warnings are printed); 1 = errors (or, with --strict,
warnings too); 2 = usage, I/O or JSON error.
"""
import json
import sys

try:
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle
except ImportError as exc:  # pragma: no cover
    sys.exit(f"fhir.resources (with R4B models) is not importable: {exc}\n"
             "install: python3 -m venv /tmp/fhirvenv && /tmp/fhirvenv/bin/pip install fhir.resources")

IG = "http://hl7.org/fhir/us/physical-activity"
SD = IG + "/StructureDefinition/"
PA_CS = IG + "/CodeSystem/pa-temporary-codes"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
CP_CAT = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
PERTAINS_TO_GOAL = "http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal"

P = {k: SD + k for k in (
    "pa-careplan", "pa-goal", "pa-servicerequest",
    "pa-observation-evs-days-per-week", "pa-observation-evs-min-per-day",
    "pa-observation-evs-min-per-week", "pa-observation-strength-days-per-week",
    "pa-observation-activity-measure", "pa-observation-activity-group",
    "pa-observation-time-measure")}
# abstract profiles: must not be claimed by instances
ABSTRACT = {SD + "pa-observation-base", SD + "pa-observation-evs"}
PROFILES_BY_TYPE = {
    "CarePlan": {P["pa-careplan"]},
    "Goal": {P["pa-goal"]},
    "ServiceRequest": {P["pa-servicerequest"]},
    "Observation": {v for k, v in P.items() if k.startswith("pa-observation")},
}

# EVS profiles: fixed LOINC code + fixed UCUM unit (ObservationExerciseVitalSign.fsh)
EVS = {
    P["pa-observation-evs-days-per-week"]: ("89555-7", "d/wk"),
    P["pa-observation-evs-min-per-day"]: ("68516-4", "min/d"),
    P["pa-observation-evs-min-per-week"]: ("82290-8", "min/wk"),
    P["pa-observation-strength-days-per-week"]: ("82291-6", "d/wk"),
}
# Activity measures (ValueSet pa-observation-code-activity, extensible) and the
# unit each SHALL use per measures.html#activity; None = coded value.
ACTIVITY_MEASURES = {
    (LOINC, "73985-4"): None,        # Exercise activity (answers from LL734-5)
    (LOINC, "55411-3"): "min",       # Exercise duration
    (LOINC, "77592-4"): "min",       # Moderate physical activity [IPAQ]
    (LOINC, "77593-2"): "min",       # Vigorous physical activity [IPAQ]
    (LOINC, "55425-3"): "/min",      # Heart rate mean (unspecified time, pedometer)
    (LOINC, "55426-1"): "/min",      # Heart rate max (unspecified time, pedometer)
    (LOINC, "55424-6"): "kcal",      # Calories burned (unspecified time, pedometer)
    (PA_CS, "Experience"): None,     # value from ValueSet pa-feeling-scale
}
FEELING = {"-5", "-4", "-3", "-2", "-1", "0", "1", "2", "3", "4", "5"}
# Time-based measures (ValueSet pa-observation-code-time, extensible), measures.html#time
TIME_MEASURES = {
    (LOINC, "41950-7"): "/d",        # Number of steps in 24 hour Measured
    (LOINC, "8873-2"): "/min",       # Heart rate 24 hour maximum
    (LOINC, "40443-4"): "/min",      # Heart rate --resting
    (LOINC, "41979-6"): "kcal/d",    # Calories burned in 24 hour Calculated
}
# Goal.target.measure binding (pa-goal-target-measure = EVS codes + time codes, extensible)
GOAL_MEASURE_UNITS = {(LOINC, c): u for c, u in EVS.values()}
GOAL_MEASURE_UNITS.update(TIME_MEASURES)
SR_INTERVENTIONS = {"819961005", "398636004", "435551000124105", "390893007",
                    "426866005", "229095001", "229065009"}     # pa-servicerequest-code
SR_US_CORE_CATS = {"409063005", "409073007", "386053000", "91251008"}
SR_STATUS = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error"}
SR_INTENT = {"original-order", "order", "filler-order"}
OBS_STATUS = {"registered", "preliminary", "final", "amended", "corrected",
              "cancelled", "entered-in-error", "unknown"}
OBS_STATUS_PA = {"final", "amended", "corrected", "entered-in-error"}
CP_STATUS = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
GOAL_LIFECYCLE = {"proposed", "planned", "accepted", "active", "on-hold", "completed",
                  "cancelled", "entered-in-error", "rejected"}
NARRATIVE_STATUS = {"generated", "extensions", "additional", "empty"}


class Report:
    def __init__(self):
        self.errors, self.warnings = [], []

    def err(self, where, msg):
        self.errors.append(f"ERROR   {where}: {msg}")

    def warn(self, where, msg):
        self.warnings.append(f"WARNING {where}: {msg}")


def codings(cc):
    return [(c.get("system"), c.get("code")) for c in (cc or {}).get("coding", [])]


def has_coding(ccs, system, code):
    if isinstance(ccs, dict):
        ccs = [ccs]
    return any((system, code) in codings(cc) for cc in (ccs or []))


class Ctx:
    """Bundle-wide lookups for reference resolution."""

    def __init__(self, entries):
        self.by_key = {}
        for e in entries:
            r = e.get("resource") or {}
            if e.get("fullUrl"):
                self.by_key[e["fullUrl"]] = r
            if r.get("resourceType") and r.get("id"):
                self.by_key[f"{r['resourceType']}/{r['id']}"] = r

    def resolve(self, ref):
        if not isinstance(ref, dict) or not ref.get("reference"):
            return None
        s = ref["reference"]
        if s in self.by_key:
            return self.by_key[s]
        parts = s.rstrip("/").split("/")       # absolute URL -> Type/id tail
        if len(parts) >= 2:
            return self.by_key.get("/".join(parts[-2:]))
        return None


def check_ref(rep, ctx, where, ref, types, required=True, profile=None):
    """Reference must carry .reference (PA 'reference-rest'); in-bundle targets are type/profile checked."""
    if not ref:
        if required:
            rep.err(where, "missing (required by IG)")
        return None
    if not ref.get("reference"):
        rep.err(where, "Reference.reference is required (PA reference-rest profile)")
        return None
    tgt = ctx.resolve(ref)
    if tgt is None:
        rep.warn(where, f"'{ref['reference']}' is not in the Bundle; type/profile not checked")
        return None
    if tgt.get("resourceType") not in types:
        rep.err(where, f"points to {tgt.get('resourceType')}, expected one of {sorted(types)}")
    if profile and profile not in (tgt.get("meta") or {}).get("profile", []):
        rep.err(where, f"target {ref['reference']} does not claim profile {profile}")
    return tgt


def check_common(rep, where, r):
    if "implicitRules" in r:
        rep.err(where, "implicitRules is prohibited (0..0) by the PA profiles")
    if "modifierExtension" in r:
        rep.err(where, "modifierExtension is prohibited (0..0) by the PA profiles")


def check_notes(rep, where, notes):
    for i, n in enumerate(notes or []):
        w = f"{where}.note[{i}]"
        if not (n.get("authorReference") or n.get("authorString")):
            rep.err(w, "note.author[x] is 1..1 in the PA profiles")
        if not n.get("time"):
            rep.err(w, "note.time is 1..1 in the PA profiles")


def check_subject_patient(rep, ctx, where, r):
    check_ref(rep, ctx, where + ".subject", r.get("subject"), {"Patient"})


def check_careplan(rep, ctx, where, r):
    text = r.get("text") or {}
    if not text.get("div"):
        rep.err(where, "text.div (narrative plan) is required: US Core CarePlan text 1..1, PA text.div MS")
    if text.get("status") not in NARRATIVE_STATUS:
        rep.err(where, f"text.status must be one of {sorted(NARRATIVE_STATUS)} (US Core)")
    if r.get("status") not in CP_STATUS:
        rep.err(where, f"status '{r.get('status')}' is not a CarePlan status")
    if r.get("intent") != "plan":
        rep.err(where, "intent is fixed to 'plan' (PACarePlan)")
    cats = r.get("category", [])
    if not has_coding(cats, CP_CAT, "assess-plan"):
        rep.err(where, f"category {CP_CAT}#assess-plan is required (US Core CarePlan AssessPlan slice 1..1)")
    if not has_coding(cats, PA_CS, "PhysicalActivity"):
        rep.err(where, f"category {PA_CS}#PhysicalActivity is required (PACarePlan PA slice 1..1)")
    check_subject_patient(rep, ctx, where, r)
    per = r.get("period") or {}
    if not per.get("start"):
        rep.warn(where, "period.start is mustSupport")
    for i, g in enumerate(r.get("goal", [])):
        check_ref(rep, ctx, f"{where}.goal[{i}]", g, {"Goal"}, profile=P["pa-goal"])
    for i, a in enumerate(r.get("activity", [])):
        if a.get("reference"):
            check_ref(rep, ctx, f"{where}.activity[{i}].reference", a["reference"],
                      {"Appointment", "CommunicationRequest", "DeviceRequest", "MedicationRequest",
                       "NutritionOrder", "Task", "ServiceRequest", "VisionPrescription",
                       "RequestGroup"})
    check_notes(rep, where, r.get("note"))


def check_goal(rep, ctx, where, r):
    if r.get("lifecycleStatus") not in GOAL_LIFECYCLE:
        rep.err(where, f"lifecycleStatus '{r.get('lifecycleStatus')}' is not valid")
    if not has_coding(r.get("category", []), PA_CS, "PhysicalActivity"):
        rep.err(where, f"category {PA_CS}#PhysicalActivity is required (PAGoal PA slice 1..1)")
    desc = r.get("description") or {}
    if not desc.get("text"):
        rep.err(where, "description.text is mustSupport and is how the IG states the goal; provide it")
    if not (desc or r.get("target")):
        rep.err(where, "pa-goal-1: description or target SHALL be present")
    check_subject_patient(rep, ctx, where, r)
    for i, t in enumerate(r.get("target", [])):
        w = f"{where}.target[{i}]"
        if "modifierExtension" in t:
            rep.err(w, "modifierExtension prohibited")
        dq = t.get("detailQuantity")
        if not dq:
            rep.err(w, "detailQuantity is 1.. in PAGoal when a target is given")
        else:
            if dq.get("system") != UCUM:
                rep.err(w, f"detailQuantity.system must be {UCUM}")
            if dq.get("value") is None or not dq.get("code"):
                rep.err(w, "detailQuantity.value and .code are mustSupport; both needed for a computable target")
        m = t.get("measure")
        if m:
            known = [c for c in codings(m) if c in GOAL_MEASURE_UNITS]
            if not known:
                rep.warn(w, "measure not from ValueSet pa-goal-target-measure (extensible binding)")
            elif dq and dq.get("code") != GOAL_MEASURE_UNITS[known[0]]:
                rep.err(w, f"unit '{dq.get('code')}' does not match {known[0][1]} "
                           f"(expected '{GOAL_MEASURE_UNITS[known[0]]}')")
        if not (t.get("dueDate") or t.get("dueDuration")):
            rep.warn(w, "target.due[x] is mustSupport in US Core Goal")
    for i, a in enumerate(r.get("addresses", [])):
        check_ref(rep, ctx, f"{where}.addresses[{i}]", a, {"Condition", "Observation"}, required=False)
    check_notes(rep, where, r.get("note"))


def check_servicerequest(rep, ctx, where, r, proposal=False):
    for i, ext in enumerate(r.get("extension", [])):
        if ext.get("url") == PERTAINS_TO_GOAL:
            check_ref(rep, ctx, f"{where}.extension[pertainsToGoal][{i}]", ext.get("valueReference"),
                      {"Goal"}, profile=P["pa-goal"])
    if r.get("status") not in SR_STATUS:
        rep.err(where, f"status must be one of {sorted(SR_STATUS)} (pa-servicerequest-status, required)")
    if proposal:
        if r.get("intent") != "proposal" or r.get("requester"):
            rep.err(where, "a prescription no clinician signed is intent=proposal without requester")
    elif r.get("intent") not in SR_INTENT:
        rep.err(where, f"intent must be one of {sorted(SR_INTENT)} (pa-servicerequest-intent)")
    cats = r.get("category", [])
    if not has_coding(cats, PA_CS, "PhysicalActivity"):
        rep.err(where, f"category {PA_CS}#PhysicalActivity is required (PAServiceRequest PA slice 1..1)")
    for i, cc in enumerate(cats):
        cs = codings(cc)
        if (PA_CS, "PhysicalActivity") not in cs and not any(s == SCT and c in SR_US_CORE_CATS for s, c in cs):
            rep.err(f"{where}.category[{i}]", "extra categories must come from pa-diagnosticreport-category "
                                             "(SNOMED 409063005|409073007|386053000|91251008; required)")
    if r.get("doNotPerform") is not None:
        rep.err(where, "doNotPerform is prohibited (0..0)")
    if r.get("specimen"):
        rep.err(where, "specimen is prohibited (0..0)")
    code = r.get("code")
    if not code:
        rep.err(where, "code is 1..1")
    elif not any(s == SCT and c in SR_INTERVENTIONS for s, c in codings(code)):
        rep.warn(where, "code not from ValueSet pa-servicerequest-code (extensible binding)")
    check_subject_patient(rep, ctx, where, r)
    occ = [k for k in r if k.startswith("occurrence")]
    if occ and occ[0] not in ("occurrenceDateTime", "occurrencePeriod", "occurrenceTiming"):
        rep.err(where, f"{occ[0]} not allowed: occurrence[x] only dateTime | Period | Timing")
    if not occ and r.get("status") != "on-hold":
        rep.warn(where, "occurrence[x] is mustSupport; the dose/timing of an exercise prescription goes here")
    if not r.get("authoredOn"):
        rep.err(where, "authoredOn is 1..1")
    req = r.get("requester")
    if proposal:
        pass
    elif not req:
        rep.err(where, "requester is 1..1")
    elif req.get("reference"):
        check_ref(rep, ctx, where + ".requester", req, {"Practitioner", "PractitionerRole"})
    elif not (req.get("identifier") or req.get("display")):
        rep.err(where + ".requester", "reference-rest-or-logical: reference or identifier (+display) needed")
    if not (r.get("reasonCode") or r.get("reasonReference")):
        rep.err(where, "pa-sr-1: reasonCode or reasonReference SHALL be present")
    performers = r.get("performer", [])
    for i, pf in enumerate(performers):
        if pf.get("reference"):
            check_ref(rep, ctx, f"{where}.performer[{i}]", pf,
                      {"Patient", "Practitioner", "PractitionerRole", "Organization", "RelatedPerson"})
    is_rx = any((ctx.resolve(pf) or {}).get("resourceType") == "Patient" or
                str(pf.get("reference", "")).startswith("Patient/") for pf in performers)
    if is_rx and not has_coding(code, SCT, "229065009"):
        rep.warn(where, "exercise prescription (performer = Patient) normally uses SNOMED 229065009 "
                        "'Exercise therapy' (interventions.html)")
    check_notes(rep, where, r.get("note"))


def check_quantity(rep, where, q, unit=None):
    if "comparator" in q:
        rep.err(where, "valueQuantity is SimpleQuantity in PAObservationBase: comparator not allowed")
    if q.get("value") is None:
        rep.err(where, "valueQuantity.value is 1..1")
    if q.get("system") != UCUM:
        rep.err(where, f"valueQuantity.system is 1..1 and fixed to {UCUM}")
    if not q.get("code"):
        rep.err(where, "valueQuantity.code is 1..1")
    elif unit and q.get("code") != unit:
        rep.err(where, f"valueQuantity.code '{q.get('code')}' must be '{unit}'")


def check_observation(rep, ctx, where, r, prof):
    st = r.get("status")
    if st not in OBS_STATUS:
        rep.err(where, f"status '{st}' is not an Observation status")
    elif st not in OBS_STATUS_PA:
        rep.warn(where, f"status '{st}': PA expects final | amended | corrected | entered-in-error")
    cats = r.get("category", [])
    if not has_coding(cats, OBS_CAT, "activity"):
        rep.err(where, f"category {OBS_CAT}#activity is required (PAObservationBase Activity slice 1..1)")
    if not has_coding(cats, PA_CS, "PhysicalActivity"):
        rep.err(where, f"category {PA_CS}#PhysicalActivity is required (PAObservationBase PA slice 1..1)")
    code = r.get("code") or {}
    check_subject_patient(rep, ctx, where, r)
    for k in ("focus", "specimen"):
        if r.get(k):
            rep.err(where, f"{k} is prohibited (0..0)")
    if "effectiveDateTime" in r:
        if len(r["effectiveDateTime"]) < 10:
            rep.err(where, "effectiveDateTime must be at least a full date (minLength 10)")
    elif "effectivePeriod" in r:
        per = r["effectivePeriod"]
        if not (per.get("start") and per.get("end")):
            rep.err(where, "effectivePeriod.start and .end are both 1..1")
    else:
        rep.err(where, "effective[x] is 1..1 (dateTime or Period)")
    if any(k.startswith("effective") and k not in ("effectiveDateTime", "effectivePeriod") for k in r):
        rep.err(where, "effective[x] only dateTime or Period")
    vkeys = [k for k in r if k.startswith("value")]
    if vkeys and vkeys[0] not in ("valueQuantity", "valueCodeableConcept"):
        rep.err(where, f"{vkeys[0]} not allowed: value[x] only Quantity or CodeableConcept")
    if "valueQuantity" in r and prof not in EVS:
        check_quantity(rep, where, r["valueQuantity"])
    for i, pf in enumerate(r.get("performer", [])):
        if pf.get("reference"):
            check_ref(rep, ctx, f"{where}.performer[{i}]", pf,
                      {"Patient", "Practitioner", "PractitionerRole", "RelatedPerson"})
    check_notes(rep, where, r.get("note"))

    if prof in EVS:
        loinc, unit = EVS[prof]
        if not has_coding(code, LOINC, loinc):
            rep.err(where, f"code must be {LOINC}#{loinc} for {prof.rsplit('/', 1)[1]}")
        if "effectiveDateTime" not in r:
            rep.err(where, "EVS observations: effective[x] only dateTime (effectivePeriod 0..0)")
        if "valueQuantity" not in r:
            rep.err(where, "EVS observations: value[x] only Quantity, value is mustSupport; send it")
        else:
            check_quantity(rep, where, r["valueQuantity"], unit)
        for i, d in enumerate(r.get("derivedFrom", [])):
            check_ref(rep, ctx, f"{where}.derivedFrom[{i}]", d, {"Observation"}, required=False)
    elif prof == P["pa-observation-activity-measure"]:
        known = [c for c in codings(code) if c in ACTIVITY_MEASURES]
        if not known:
            rep.warn(where, "code not from ValueSet pa-observation-code-activity (extensible)")
        else:
            unit = ACTIVITY_MEASURES[known[0]]
            if unit is None:
                vcc = r.get("valueCodeableConcept")
                if not vcc:
                    rep.err(where, f"{known[0][1]} takes a coded value (valueCodeableConcept)")
                elif known[0] == (PA_CS, "Experience") and not any(
                        s == PA_CS and c in FEELING for s, c in codings(vcc)):
                    rep.err(where, "Experience value must come from ValueSet pa-feeling-scale (-5..5)")
                elif known[0] == (LOINC, "73985-4") and not any(s == LOINC for s, _ in codings(vcc)):
                    rep.err(where, "Exercise activity value should be a LOINC answer (LL734-5)")
            elif "valueQuantity" not in r:
                rep.err(where, f"{known[0][1]} takes valueQuantity in '{unit}'")
            else:
                check_quantity(rep, where, r["valueQuantity"], unit)
    elif prof == P["pa-observation-activity-group"]:
        if not has_coding(code, PA_CS, "PAPanel"):
            rep.err(where, f"code must be {PA_CS}#PAPanel")
        if vkeys:
            rep.err(where, "value[x] is prohibited (0..0) on the activity group")
        members = r.get("hasMember", [])
        if not members:
            rep.err(where, "hasMember is 1..* (the activity measures of this session)")
        for i, m in enumerate(members):
            tgt = check_ref(rep, ctx, f"{where}.hasMember[{i}]", m, {"Observation"},
                            profile=P["pa-observation-activity-measure"])
            if tgt and tgt.get("effectivePeriod", tgt.get("effectiveDateTime")) != \
                    r.get("effectivePeriod", r.get("effectiveDateTime")):
                rep.warn(f"{where}.hasMember[{i}]", "member effective[x] SHOULD equal the group's")
    elif prof == P["pa-observation-time-measure"]:
        known = [c for c in codings(code) if c in TIME_MEASURES]
        if "valueCodeableConcept" in r:
            rep.err(where, "time-based measures: value[x] only Quantity")
        if not known:
            rep.warn(where, "code not from ValueSet pa-observation-code-time (extensible)")
        elif "valueQuantity" in r:
            check_quantity(rep, where, r["valueQuantity"], TIME_MEASURES[known[0]])
        for i, c in enumerate(r.get("component", [])):
            if has_coding(c.get("code"), PA_CS, "DeviceActivePercentage"):
                check_quantity(rep, f"{where}.component[{i}]", c.get("valueQuantity") or {}, "%")


CHECKERS = {"CarePlan": check_careplan, "Goal": check_goal, "ServiceRequest": check_servicerequest}


def validate(data):
    rep = Report()
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        rep.err("root", "top-level resourceType must be 'Bundle'")
        return rep
    try:                                   # layer 1a: whole bundle
        Bundle.model_validate(data)
    except Exception as exc:               # pydantic.ValidationError and friends
        rep.err("Bundle (fhir.resources R4B)", str(exc))
    entries = data.get("entry") or []
    if not entries:
        rep.err("Bundle", "no entries")
    ctx = Ctx(entries)
    counts = {}
    for i, e in enumerate(entries):
        r = e.get("resource")
        if not isinstance(r, dict):
            rep.err(f"entry[{i}]", "has no resource")
            continue
        rt = r.get("resourceType")
        where = f"entry[{i}] {rt}/{r.get('id')}"
        try:                               # layer 1b: each resource by its own model
            get_fhir_model_class(rt).model_validate(r)
        except KeyError:
            rep.err(where, f"unknown resourceType '{rt}'")
            continue
        except Exception as exc:
            rep.err(where + " (fhir.resources R4B)", str(exc))
        if rt not in PROFILES_BY_TYPE:     # e.g. Patient, Practitioner: structure only
            continue
        check_common(rep, where, r)
        claimed = set((r.get("meta") or {}).get("profile", []))
        for a in claimed & ABSTRACT:
            rep.err(where, f"claims abstract profile {a}; use a concrete PA profile")
        pa = sorted(claimed & PROFILES_BY_TYPE[rt])
        if rt == "ServiceRequest" and not claimed:
            check_servicerequest(rep, ctx, where, r, proposal=True)
            counts["ServiceRequest (proposal)"] = counts.get("ServiceRequest (proposal)", 0) + 1
            continue
        if not pa:
            rep.err(where, f"meta.profile must contain a PA profile for {rt}: "
                           f"{sorted(PROFILES_BY_TYPE[rt])}")
            continue
        if len(pa) > 1:
            rep.err(where, f"claims several PA profiles {pa}; exactly one expected")
        counts[pa[0]] = counts.get(pa[0], 0) + 1
        if rt == "Observation":
            check_observation(rep, ctx, where, r, pa[0])
        else:
            CHECKERS[rt](rep, ctx, where, r)
    rep.counts = counts
    return rep


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    strict = "--strict" in argv
    if len(args) != 1:
        print(next(p for p in __doc__.split("\n\n") if p.startswith("Usage:")), file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"cannot read JSON from {args[0]}: {exc}", file=sys.stderr)
        return 2
    rep = validate(data)
    for line in rep.warnings + rep.errors:
        print(line)
    n = len(data.get("entry") or []) if isinstance(data, dict) else 0
    for prof, c in sorted(getattr(rep, "counts", {}).items()):
        print(f"  {c} x {prof}")
    failed = bool(rep.errors) or (strict and bool(rep.warnings))
    print(f"{'FAIL' if failed else 'OK'}: {n} entries, {len(rep.errors)} error(s), "
          f"{len(rep.warnings)} warning(s)")
    return 1 if failed else 0


def _checked(bundle, want):
    rep = validate(bundle)
    problems = rep.errors + rep.warnings
    counts = getattr(rep, "counts", {})
    for key, (low, high) in want.items():
        n = counts.get(key, 0)
        if not low <= n <= (high if high is not None else n):
            problems.append(f"ERROR   Bundle: {n} x {key}, expected {low}..{high if high is not None else 'n'}")
    if problems:
        raise SystemExit("FHIR check failed:\n  " + "\n  ".join(problems[:20]))
    return ", ".join(f"{c} x {k.rsplit('/', 1)[-1]}" for k, c in sorted(counts.items()))


def check_programme_bundle(bundle):
    """A programme: one CarePlan, a Goal per goal, one proposed prescription; no error, no warning."""
    return _checked(bundle, {P["pa-careplan"]: (1, 1), P["pa-goal"]: (1, 3), "ServiceRequest (proposal)": (1, 1)})


def check_sessions_bundle(bundle, sessions):
    """Sessions: an activity group and two measures per session, strengthening days per week."""
    return _checked(bundle, {
        P["pa-observation-activity-group"]: (sessions, sessions),
        P["pa-observation-activity-measure"]: (2 * sessions, 2 * sessions),
        P["pa-observation-strength-days-per-week"]: (1, None),
    })


if __name__ == "__main__":
    sys.exit(main(sys.argv))
