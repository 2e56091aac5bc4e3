-- weekly-report, step 5 of 5: generate every report inside Snowflake each Monday morning.
--
-- GENERATE_WEEKLY_REPORTS(week_start) writes one report per assigned customer for a week (the
-- last complete Monday-Sunday week by default): it creates a Cortex thread, asks the agent of
-- agent.sql once per section with the same prompts as templates/ebr/prompts/*.j2, chaining
-- each turn on the previous answer's message id, and MERGEs the result into weekly_reports by
-- (report_kind 'ebr', subject_id, report_week_start) as a new generation (generation_id); when
-- the MERGE won the row, it writes the report's sections under that generation and deletes the sections of
-- any other, as the bot's own saves do (core/storage.py), so a run racing the bot leaves one
-- whole report. A stored complete report is kept, so a second run in the same week only
-- retries partial and failed ones. Delivery to Slack stays with the bot, which reads the stored reports.
--
-- No network rule or external access integration is needed: _snowflake.send_snow_api_request
-- calls this account's own REST API (threads, agents:run) from inside Snowflake with the
-- caller's session, and those only exist for hosts outside Snowflake.
--
-- Follow-up questions continue these threads, and a Cortex thread belongs to the user that
-- created it. The bot must therefore sign in as the user the task runs as; where your account
-- supports it, create the task with EXECUTE AS USER <the bot's user> (after
-- GRANT IMPERSONATE ON USER <the bot's user> TO ROLE WEEKLY_REPORT_ROLE).
--
-- Needs: setup.sql, agent.sql.

CREATE OR REPLACE PROCEDURE CUSTOMER_SUCCESS_DATA.ANALYTICS.GENERATE_WEEKLY_REPORTS(WEEK_START DATE DEFAULT NULL)
    RETURNS VARCHAR
    LANGUAGE PYTHON
    RUNTIME_VERSION = '3.11'
    PACKAGES = ('snowflake-snowpark-python')
    HANDLER = 'main'
    COMMENT = 'weekly-report: one executive business review per assigned customer for a week'
    EXECUTE AS CALLER
AS
$$
import datetime
import json
import uuid

import _snowflake

T = "CUSTOMER_SUCCESS_DATA.ANALYTICS"
AGENT_RUN = "/api/v2/databases/SNOWFLAKE_INTELLIGENCE/schemas/AGENTS/agents/EXECUTIVE_REVIEW_ASSISTANT:run"
THREADS = "/api/v2/cortex/threads"
TIMEOUT_MS = 600_000  # one section; the API itself gives up after 15 minutes

# The section prompts of templates/ebr/prompts/*.j2, in report order: keep them in step.
SECTIONS = [
    ("performance", "Performance vs Benchmarks",
     "Analyze performance for customer {customer_id} ({customer_name}, {industry} industry) for the week of "
     "{week_start} to {week_end}.\n\nSection: Performance vs Benchmarks.\n"
     "1. Conversions: count, total revenue and average conversion value for the week.\n"
     "2. Engagement: open rate, click-through rate and engagement score.\n"
     "3. Compare each metric with the {industry} industry benchmark, week over week (vs {previous_start} to "
     "{previous_end}) and year over year (vs {year_ago_start} to {year_ago_end}).\n"
     "Give exact figures from the data, state whether each is above, in line with or below the benchmark, "
     "and keep it concise."),
    ("business_value", "Business Value Analysis",
     "Continue the executive business review of {customer_id} ({customer_name}) for the week of {week_start} "
     "to {week_end}.\n\nSection: Business Value Analysis.\n"
     "1. Revenue trend over the last 8 weeks and the growth rate.\n"
     "2. Engagement, as one component of account health: the engagement score against the industry "
     "benchmark (in line means within 5 %) and its last 4 weeks against the 4 before. Do not give an overall "
     "Healthy / Watch / At risk verdict: the report states the account's verdict, made from all its signals.\n"
     "3. Channel effectiveness, as a Markdown table with one row per channel: revenue, its share of the "
     "total, conversions, click-through, and how revenue changed week over week.\n"
     "4. Attribution insights: which channels lead under each attribution model, and where the models "
     "disagree.\nUse figures from the data only."),
    ("recommendations", "Recommendations & Best Practices",
     "Finish the executive business review of {customer_id} ({customer_name}, {industry}) for the week of "
     "{week_start} to {week_end}.\n\nSection: Recommendations & Best Practices.\n"
     "Give 3 to 5 recommendations focused on optimisation and churn prevention. For each: the data point "
     "behind it, the action, a relevant case study found by searching the case studies (prefer the "
     "{industry} industry), and the expected impact calculated from this customer's figures."),
]

# One report per customer (its first CSM), skipping customers whose report for the week is complete.
TARGETS = f"""
SELECT a.csm_id, a.customer_id, c.customer_name, c.industry
FROM {T}.csm_assignments a JOIN {T}.customers c ON c.customer_id = a.customer_id
WHERE NOT EXISTS (SELECT 1 FROM {T}.weekly_reports r WHERE r.report_kind = 'ebr' AND r.subject_id = a.customer_id
                  AND r.report_week_start = ?::DATE AND r.status = 'complete')
QUALIFY ROW_NUMBER() OVER (PARTITION BY a.customer_id ORDER BY a.csm_id) = 1
ORDER BY a.customer_id
"""

MERGE = f"""
MERGE INTO {T}.weekly_reports t USING (
  SELECT ? AS report_id, ? AS csm_id, ? AS customer_id, CAST(? AS DATE) AS report_week_start,
         CAST(? AS DATE) AS report_week_end, ? AS full_report, ? AS status, ? AS agent_thread_id,
         CAST(? AS NUMBER(38, 0)) AS last_message_id, PARSE_JSON(?) AS metadata, ? AS generation_id,
         'ebr' AS report_kind) s
ON t.report_kind = s.report_kind AND t.subject_id = s.customer_id AND t.report_week_start = s.report_week_start
WHEN MATCHED AND t.status <> 'complete' THEN UPDATE SET
  report_id = s.report_id, csm_id = s.csm_id, report_week_end = s.report_week_end,
  full_report = s.full_report, generation_timestamp = CURRENT_TIMESTAMP()::TIMESTAMP_NTZ,
  status = s.status, agent_thread_id = s.agent_thread_id, last_message_id = s.last_message_id,
  metadata = s.metadata, generation_id = s.generation_id
WHEN NOT MATCHED THEN INSERT (report_id, csm_id, customer_id, report_week_start, report_week_end,
  full_report, generation_timestamp, status, agent_thread_id, last_message_id, metadata, generation_id,
  report_kind, subject_id)
VALUES (s.report_id, s.csm_id, s.customer_id, s.report_week_start, s.report_week_end, s.full_report,
  CURRENT_TIMESTAMP()::TIMESTAMP_NTZ, s.status, s.agent_thread_id, s.last_message_id, s.metadata,
  s.generation_id, s.report_kind, s.customer_id)
"""
SECTION = f"""
INSERT INTO {T}.report_sections (report_id, section_key, position, title, content, agent_message_id,
  status, error, generation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# The report's section rows that are not its row's current generation.
STALE_SECTIONS = f"""
DELETE FROM {T}.report_sections WHERE report_id = ? AND NOT EXISTS (
  SELECT 1 FROM {T}.weekly_reports r WHERE r.report_id = report_sections.report_id
  AND r.generation_id = report_sections.generation_id)
"""


def main(session, week_start=None):
    if week_start is None:
        week_start = session.sql("SELECT DATEADD('week', -1, DATE_TRUNC('week', CURRENT_DATE()))").collect()[0][0]
    start = week_start if isinstance(week_start, datetime.date) else datetime.date.fromisoformat(str(week_start))
    counts = {"complete": 0, "partial": 0, "failed": 0}
    for row in session.sql(TARGETS, params=[start.isoformat()]).collect():
        target = {k.lower(): v for k, v in row.as_dict().items()}
        counts[write_report(session, target, start)] += 1
    return json.dumps({"week_start": start.isoformat(), **counts})


def write_report(session, target, start):
    """Generate one report; store it unless a complete one appeared meanwhile. Returns its status."""
    dates = week_dates(start)
    sections, thread_id, last_id = run_sections({**target, **dates})
    done = sum(1 for s in sections if s[5] == "complete")
    status = "complete" if done == len(sections) else "partial" if done else "failed"
    report_id = f"{target['customer_id']}-{start:%Y%m%d}"
    metadata = {
        "customer_name": target["customer_name"], "industry": target["industry"], "agent": "cortex",
        "generated_by": "GENERATE_WEEKLY_REPORTS", "headline": None,
        "failed_sections": [s[0] for s in sections if s[5] != "complete"],
    }
    row = (report_id, target["csm_id"], target["customer_id"], dates["week_start"], dates["week_end"],
           markdown(target, dates, status, sections), status, thread_id, last_id, json.dumps(metadata))
    store(session, row, sections)
    return status


def store(session, row, sections):
    """MERGE the report row as a new generation; if that won the row, its sections follow it
    (inserted, then other generations' deleted, in a transaction and once more after)."""
    generation = uuid.uuid4().hex
    session.sql(MERGE, params=[*row, generation]).collect()
    report_id = row[0]
    stored = session.sql(f"SELECT generation_id FROM {T}.weekly_reports WHERE report_id = ?",
                         params=[report_id]).collect()
    if not stored or stored[0][0] != generation:
        return False
    session.sql("BEGIN").collect()
    try:
        for section in sections:
            session.sql(SECTION, params=[report_id, *section, generation]).collect()
        session.sql(STALE_SECTIONS, params=[report_id]).collect()
        session.sql("COMMIT").collect()
    except Exception:
        session.sql("ROLLBACK").collect()
        raise
    session.sql(STALE_SECTIONS, params=[report_id]).collect()
    return True


def run_sections(context):
    """Ask each section on one thread, each turn parented on the last answer; a failure skips one section."""
    sections, last_id = [], None
    try:
        created = api(THREADS, {"origin_application": "weekly_report"})
        thread_id = str(created["thread_id"] if isinstance(created, dict) else created)
    except Exception as exc:  # recorded on every section: the run goes on
        error = f"could not start an agent thread: {exc}"[:1000]
        return [(k, i, t, None, None, "failed", error) for i, (k, t, _) in enumerate(SECTIONS, 1)], None, None
    for position, (key, title, prompt) in enumerate(SECTIONS, start=1):
        try:
            text, message_id = ask(thread_id, last_id or 0, prompt.format(**context))
        except Exception as exc:  # one failed section must not lose the others
            sections.append((key, position, title, None, None, "failed", str(exc)[:1000]))
            continue
        last_id = message_id or last_id
        sections.append((key, position, title, text, message_id, "complete", None))
    return sections, thread_id, last_id


def ask(thread_id, parent_id, prompt):
    """One agent turn: (answer text, assistant message id)."""
    answer = api(AGENT_RUN, {
        "thread_id": int(thread_id), "parent_message_id": parent_id, "stream": False,
        "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
        "tool_choice": {"type": "auto"},
    })
    # A non-streamed answer is the final `response` object; accept a list of events as well.
    events = answer if isinstance(answer, list) else [{"event": "response", "data": answer}]
    text, message_id = "", None
    for event in events:
        name, data = event.get("event"), event.get("data") or {}
        if name == "error":
            raise RuntimeError(data.get("message") or "the agent answered with an error")
        if name == "metadata" and data.get("role") == "assistant":
            message_id = data.get("message_id")
        if name == "response":
            text = "".join(c.get("text", "") for c in data.get("content", []) if c.get("type") == "text")
            message_id = (data.get("metadata") or {}).get("assistant_message_id") or message_id
    if not text.strip():
        raise RuntimeError("the agent returned no text")
    return text.strip(), message_id


def api(path, body):
    """POST to this account's REST API as the caller; the decoded JSON answer."""
    resp = _snowflake.send_snow_api_request("POST", path, {}, {}, body, None, TIMEOUT_MS)
    content = resp.get("content") or "null"
    if resp.get("status", 500) >= 400:
        raise RuntimeError(f"{path} answered {resp.get('status')}: {content[:300]}")
    return json.loads(content)


def week_dates(start):
    day = datetime.timedelta(days=1)
    week = datetime.timedelta(weeks=1)
    return {
        "week_start": start.isoformat(), "week_end": (start + 6 * day).isoformat(),
        "previous_start": (start - week).isoformat(), "previous_end": (start - day).isoformat(),
        "year_ago_start": (start - 52 * week).isoformat(),
        "year_ago_end": (start - 52 * week + 6 * day).isoformat(),
    }


def markdown(target, dates, status, sections):
    parts = [
        f"# Weekly Executive Business Review: {target['customer_name']} ({target['customer_id']})",
        f"Week of {dates['week_start']} to {dates['week_end']} · {target['industry']} · status: {status}",
    ]
    for _key, position, title, content, _id, _state, error in sections:
        body = content or f"_This section could not be generated: {error}_"
        parts.append(f"## {position}. {title}\n\n{body}")
    return "\n\n".join(parts)
$$;

-- The task runs the procedure as its owner, WEEKLY_REPORT_ROLE (set below), which already may
-- read the data, write the reports and run the agent.
GRANT USAGE ON PROCEDURE CUSTOMER_SUCCESS_DATA.ANALYTICS.GENERATE_WEEKLY_REPORTS(DATE)
    TO ROLE WEEKLY_REPORT_ROLE;

-- Every Monday at 08:00 in Los Angeles (WEEKLY_REPORT_SCHEDULE / WEEKLY_REPORT_TZ of the bot).
-- A task is created suspended; re-running this file replaces and so suspends it again.
CREATE OR REPLACE TASK CUSTOMER_SUCCESS_DATA.ANALYTICS.WEEKLY_REPORTS_TASK
    WAREHOUSE = CUSTOMER_SUCCESS_WH
    SCHEDULE = 'USING CRON 0 8 * * MON America/Los_Angeles'
    USER_TASK_TIMEOUT_MS = 14400000
    COMMENT = 'weekly-report: generate the week''s executive business reviews'
AS
    CALL CUSTOMER_SUCCESS_DATA.ANALYTICS.GENERATE_WEEKLY_REPORTS();

-- Running a task is an account-level privilege; its owner needs it.
GRANT EXECUTE TASK ON ACCOUNT TO ROLE WEEKLY_REPORT_ROLE;

GRANT OWNERSHIP ON TASK CUSTOMER_SUCCESS_DATA.ANALYTICS.WEEKLY_REPORTS_TASK
    TO ROLE WEEKLY_REPORT_ROLE COPY CURRENT GRANTS;

-- After setup (as WEEKLY_REPORT_ROLE, or a role above it):
--
--   Start the schedule:
--     ALTER TASK CUSTOMER_SUCCESS_DATA.ANALYTICS.WEEKLY_REPORTS_TASK RESUME;
--   Run it now, outside the schedule (the task need not be resumed):
--     EXECUTE TASK CUSTOMER_SUCCESS_DATA.ANALYTICS.WEEKLY_REPORTS_TASK;
--   Or generate a given week directly:
--     CALL CUSTOMER_SUCCESS_DATA.ANALYTICS.GENERATE_WEEKLY_REPORTS('2026-11-09'::DATE);
--   See past and scheduled runs, newest first:
--     SELECT name, state, scheduled_time, completed_time, return_value, error_message
--     FROM TABLE(CUSTOMER_SUCCESS_DATA.INFORMATION_SCHEMA.TASK_HISTORY(
--         TASK_NAME => 'WEEKLY_REPORTS_TASK', RESULT_LIMIT => 20))
--     ORDER BY scheduled_time DESC;
--   Stop the schedule:
--     ALTER TASK CUSTOMER_SUCCESS_DATA.ANALYTICS.WEEKLY_REPORTS_TASK SUSPEND;
