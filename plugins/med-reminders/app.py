"""med-reminders: a daily medicine schedule from the patient's prescriptions.

An Amanat sample plugin in Python, built with componentize-py against the
plugin interface (plugin-sdk/wit/v0.1.0, world `plugin`). It reads the
current profile's MedicationRequests through the wallet (`host`), works out
at what times of day each active medicine is taken, proposes one FHIR
CarePlan (saved only if the patient confirms) and returns an iCalendar file
whose daily events a phone turns into reminders.
"""

import json
import re
from datetime import datetime, timezone

import wit_world
from componentize_py_types import Err
from wit_world.imports import host, types

# When each number of doses a day is taken, as clock times.
TIMES = {
    1: ["08:00"],
    2: ["08:00", "20:00"],
    3: ["08:00", "14:00", "20:00"],
    4: ["08:00", "12:00", "16:00", "20:00"],
}

# Words in dosage text, and the times they mean (first match wins).
WORDS = [
    (r"\b(four times|qid|4 times)\b", TIMES[4]),
    (r"\b(three times|thrice|tid|tds|3 times)\b", TIMES[3]),
    (r"\b(twice|two times|bid|bd|2 times)\b", TIMES[2]),
    (r"\bevery 6 hours\b", ["06:00", "12:00", "18:00", "00:00"]),
    (r"\bevery 8 hours\b", ["06:00", "14:00", "22:00"]),
    (r"\bevery 12 hours\b", TIMES[2]),
    (r"\b(at night|at bedtime|bedtime|hs)\b", ["21:00"]),
    (r"\b(in the morning|morning)\b", ["08:00"]),
    (r"\b(once|daily|od|qd|every day)\b", TIMES[1]),
]


def log(message):
    host.log(types.LogLevel.INFO, message)


def times_of(dosage):
    """Clock times a dosage instruction means, or None if it does not say."""
    repeat = dosage.get("timing", {}).get("repeat", {})
    if repeat.get("timeOfDay"):
        return [t[:5] for t in repeat["timeOfDay"]]
    frequency, period, unit = repeat.get("frequency"), repeat.get("period", 1), repeat.get("periodUnit")
    if frequency and unit == "d" and period == 1 and frequency in TIMES:
        return TIMES[frequency]
    if frequency == 1 and unit == "h" and period in (6, 8, 12):
        return times_of({"text": f"every {period} hours"})
    text = " ".join(
        filter(None, [dosage.get("text"), dosage.get("timing", {}).get("code", {}).get("text")])
    ).lower()
    for pattern, times in WORDS:
        if re.search(pattern, text):
            return times
    return None


def medicine_name(request):
    concept = request.get("medicationCodeableConcept", {})
    if concept.get("text"):
        return concept["text"]
    for coding in concept.get("coding", []):
        if coding.get("display"):
            return coding["display"]
    return request.get("medicationReference", {}).get("display", "a medicine")


def schedule():
    """(medicine, dose text, times, request id) for each active prescription."""
    try:
        listed = host.list_records("MedicationRequest")
    except Err as refused:
        raise Err(types.PluginError_Denied(refused.value))
    rows, unclear = [], []
    for summary in listed:
        try:
            record = host.read_record(summary.id)
        except Err as refused:
            log(f"could not read {summary.id}: {refused.value}")
            continue
        request = json.loads(record.json)
        if request.get("status") != "active":
            continue
        dosage = (request.get("dosageInstruction") or [{}])[0]
        times = times_of(dosage)
        name = medicine_name(request)
        if times is None:
            unclear.append(name)
            continue
        rows.append((name, dosage.get("text", ""), times, record.id))
    return rows, unclear


def care_plan(rows, today):
    activities = []
    for name, dose, times, record_id in rows:
        activities.append({
            "detail": {
                "kind": "MedicationRequest",
                "status": "scheduled",
                "productCodeableConcept": {"text": name},
                "description": f"{name}: {dose}" if dose else name,
                "scheduledTiming": {"repeat": {"frequency": len(times), "period": 1, "periodUnit": "d",
                                               "timeOfDay": [t + ":00" for t in times]}},
            },
            "extension": [{"url": "https://amanat.example/fhir/StructureDefinition/source-record",
                           "valueString": record_id}],
        })
    return {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "title": "Daily medicine schedule",
        "description": "Made by the med-reminders plugin from your current prescriptions.",
        "created": today,
        "subject": {"display": "the patient"},
        "activity": activities,
    }


def calendar(rows, now):
    """An iCalendar (RFC 5545) file: one daily event per medicine and time."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    day = now.strftime("%Y%m%d")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Amanat//med-reminders 0.1.0//EN",
             "CALSCALE:GREGORIAN"]
    for n, (name, dose, times, record_id) in enumerate(rows):
        for t in times:
            hhmm = t.replace(":", "")
            lines += ["BEGIN:VEVENT",
                      f"UID:{record_id}-{hhmm}@med-reminders.amanat",
                      f"DTSTAMP:{stamp}",
                      f"DTSTART:{day}T{hhmm}00",
                      "DURATION:PT5M",
                      "RRULE:FREQ=DAILY",
                      "SUMMARY:" + escape(f"Take {name}"),
                      "DESCRIPTION:" + escape(dose or name),
                      "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:PT0M",
                      "DESCRIPTION:" + escape(f"Take {name}"), "END:VALARM",
                      "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def escape(text):
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.Metadata:
        return types.Metadata(
            name="med-reminders",
            version="0.1.0",
            actions=[types.ActionInfo(
                name="schedule",
                description="A daily schedule of your current medicines, as a care plan and a calendar file",
                takes_file=False,
                takes_records=False,
            )],
        )

    def run(self, action: str, input: types.ActionInput) -> types.ActionOutput:
        if action != "schedule":
            raise Err(types.PluginError_InvalidInput(f"unknown action '{action}'; this plugin has: schedule"))
        rows, unclear = schedule()
        if not rows:
            raise Err(types.PluginError_Failed(
                "no current prescription says when to take it" if unclear else "no current prescriptions"))
        now = datetime.fromtimestamp(host.now(), tz=timezone.utc)
        try:
            host.propose_record(json.dumps(care_plan(rows, now.strftime("%Y-%m-%d"))))
        except Err as refused:
            raise Err(types.PluginError_Denied(refused.value))
        lines = [f"{name}: {', '.join(times)}" for name, _, times, _ in rows]
        if unclear:
            lines.append("Not scheduled (the prescription does not say when): " + ", ".join(unclear))
        log(f"scheduled {len(rows)} medicine(s)")
        return types.ActionOutput(
            message="Daily schedule:\n" + "\n".join(lines),
            document=types.Document(name="medicines.ics", media_type="text/calendar",
                                    bytes=calendar(rows, now).encode()),
        )
