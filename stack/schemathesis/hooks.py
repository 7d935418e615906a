"""Keeps schemathesis's valid requests within the rules that the API document states in words only.

JSON Schema cannot state a rule that depends on the clock, on a value the server issued, or on another part of the
request: a job or timer may be due at most a year ahead, and the job figures look back at most seven days (the
clock); `cursor` must be a page's `nextCursor` (issued by the server); books are imported from an upload with a
Markdown or EPUB name or type, never from `{url}` (the query and the body together); an upload's other fields are
ignored, but their names may not hold control characters (multipart framing). The document says so in its
descriptions (but the last), and the producer refuses such requests with 400. A schedule's cron expression and time zone must be
ones the producer reads, and its end must come after its start; so must a dead-letter filter's time range. So that the fuzzer's schema-valid requests stay
valid, this hook moves the few that break those rules back inside them, before they are sent; it leaves invalid requests alone, which the producer must still refuse.
"""

from datetime import datetime, timedelta, timezone

import schemathesis

# The producer's MAX_SCHEDULE_AHEAD_MS, less a day so that the clock moving on during a run cannot matter.
HORIZON = timedelta(days=365)
DURATION_UNITS = {"hours": 3600, "minutes": 60, "seconds": 1}


def _parse_instant(value):
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None


def _within_horizon(request):
    """A job request or a timer whose `runAt` lies beyond the horizon is due an hour from now instead."""
    if not isinstance(request, dict):
        return
    due = _parse_instant(request.get("runAt"))
    if due is not None and due.tzinfo is not None and due - datetime.now(timezone.utc) > HORIZON:
        request["runAt"] = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()


def _timer_duration_within_horizon(timer):
    if not isinstance(timer, dict):
        return
    units = [unit for unit in DURATION_UNITS if isinstance(timer.get(unit), (int, float))]
    total = sum(timer[unit] * DURATION_UNITS[unit] for unit in units)
    if total > HORIZON.total_seconds():
        for unit in units:
            timer[unit] = 1


# A cron expression and a time zone the producer reads; JSON Schema can only say "a string".
SCHEDULE_CRON = "0 */5 * * * *"
SCHEDULE_TIME_ZONE = "Europe/Berlin"


def _schedule_dates_within_rules(schedule, creating):
    """A schedule's end comes after its start. Applied to invalid requests too: one generated as invalid may turn out
    valid (its flaw was elsewhere, or none), and is then checked as a valid one."""
    if not isinstance(schedule, dict):
        return
    # A change of one of the dates is checked against the other as the schedule has it: change both, or clear one.
    if not creating and ("startAt" in schedule) != ("endAt" in schedule):
        schedule.setdefault("startAt", None)
        schedule.setdefault("endAt", None)
    start, end = _parse_instant(schedule.get("startAt")), _parse_instant(schedule.get("endAt"))
    if start is not None and end is not None and start.tzinfo and end.tzinfo and end <= start:
        del schedule["endAt"]


def _schedule_within_rules(schedule, creating):
    """A schedule's cron and time zone become ones the producer reads. Created schedules start paused, so that the
    fuzzer's schedules create no jobs while it runs."""
    if not isinstance(schedule, dict):
        return
    if "cron" in schedule:
        schedule["cron"] = SCHEDULE_CRON
    if "timeZone" in schedule:
        schedule["timeZone"] = SCHEDULE_TIME_ZONE
        # A schedule changed may fire by interval: a time zone goes with a cron expression.
        schedule.setdefault("cron", SCHEDULE_CRON)
    if isinstance(schedule.get("job"), dict):
        _job_within_rules(schedule["job"])
    if creating or schedule.get("paused") is False:
        schedule["paused"] = True


def _dead_letter_filter_within_rules(filter):
    """A dead-letter filter's time range ends after it starts: a `to` at or before `from` is dropped."""
    if not isinstance(filter, dict):
        return
    start, end = _parse_instant(filter.get("from")), _parse_instant(filter.get("to"))
    if start is not None and end is not None and start.tzinfo and end.tzinfo and end <= start:
        del filter["to"]


def _job_within_rules(job):
    """A job request: due within the horizon, and a bulk dead-letter job's filter within its rules."""
    _within_horizon(job)
    if isinstance(job, dict) and str(job.get("type", "")).startswith("deadLetters."):
        _dead_letter_filter_within_rules(job.get("payload"))


def _stats_window_within_rules(query):
    """`GET /v1/stats` looks back at most seven days, in at most 1,440 buckets: a `since` is an hour ago instead."""
    if isinstance(query, dict) and "since" in query:
        query["since"] = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()


def _upload_fields_within_rules(case):
    """An upload's fields other than `file` are ignored, but their names go into part headers, which may not hold
    control characters: a generated upload drops the fields whose names do."""
    if isinstance(case.body, dict):
        for name in [name for name in case.body if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name)]:
            del case.body[name]


def _is_positive(case):
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context, case, kwargs):
    path, method = case.operation.path, case.method.upper()
    if path == "/v1/schedules" and method == "POST":
        _schedule_dates_within_rules(case.body, creating=True)
    elif path == "/v1/schedules/{id}" and method == "PATCH":
        _schedule_dates_within_rules(case.body, creating=False)
    elif method == "POST" and path in ("/v1/dead-letters/redrive", "/v1/dead-letters/discard"):
        _dead_letter_filter_within_rules(case.body)
    if not _is_positive(case):
        return
    if method == "POST" and path == "/v1/jobs":
        _job_within_rules(case.body)
    elif method == "POST" and path == "/v1/jobs/batch" and isinstance(case.body, dict):
        for job in case.body.get("jobs") or []:
            _job_within_rules(job)
    elif method == "POST" and path in ("/v1/dead-letters/redrive", "/v1/dead-letters/discard"):
        _dead_letter_filter_within_rules(case.body)
    elif method == "POST" and path == "/v1/timers":
        _within_horizon(case.body)
        _timer_duration_within_horizon(case.body)
    elif path == "/v1/schedules" and method == "POST":
        _schedule_within_rules(case.body, creating=True)
    elif path == "/v1/schedules/{id}" and method == "PATCH":
        _schedule_within_rules(case.body, creating=False)
    elif method == "POST" and path == "/v1/imports":
        if isinstance(case.query, dict) and case.query.get("resource") == "books":
            case.query.clear()
            case.query["resource"] = "users"
        _upload_fields_within_rules(case)
    elif method == "GET" and path == "/v1/stats":
        _stats_window_within_rules(case.query)
    if method == "GET" and isinstance(case.query, dict) and "cursor" in case.query:
        del case.query["cursor"]
