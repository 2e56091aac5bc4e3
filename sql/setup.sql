-- weekly-report, step 1 of 5: warehouse, database, schema, every table, the semantic-model
-- stage and the bot's role. Snowflake SQL; every statement is idempotent.
--
-- This file is the single source of the schema. `weekly-report setup-snowflake` runs all of it
-- on an account; the embedded warehouse (DuckDB through fakesnow) runs the same file but skips
-- the statements tagged `-- @account-only` on the line before them (warehouse, stage, role,
-- grants), which only make sense in a Snowflake account.
--
-- Run it with a role that may create warehouses, databases and roles and grant privileges
-- (ACCOUNTADMIN for a first setup). Objects created here are owned by that role.
--
-- Snowflake does not enforce PRIMARY KEY / UNIQUE on standard tables, so none are declared:
-- "one row per key" comes from the MERGE statements in core/storage.py, on both backends.

-- An extra-small warehouse is plenty: a weekly run is a handful of set-based queries per batch.
-- @account-only
CREATE WAREHOUSE IF NOT EXISTS CUSTOMER_SUCCESS_WH
    WAREHOUSE_SIZE = 'XSMALL'
    AUTO_SUSPEND = 60
    AUTO_RESUME = TRUE
    INITIALLY_SUSPENDED = TRUE
    COMMENT = 'weekly-report: reports, Cortex Analyst queries and the case-study search index';

CREATE DATABASE IF NOT EXISTS CUSTOMER_SUCCESS_DATA;
-- The coaching data (issue 15), tables below. Created before ANALYTICS because creating a
-- schema makes it the session's current one: ANALYTICS stays current, as before.
CREATE SCHEMA IF NOT EXISTS CUSTOMER_SUCCESS_DATA.COACHING;
CREATE SCHEMA IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS;

-- Source data: loaded by the customer in production, by `weekly-report load-demo` locally.

CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.customers (
    customer_id VARCHAR NOT NULL,
    customer_name VARCHAR NOT NULL,
    industry VARCHAR NOT NULL,
    segment VARCHAR,
    region VARCHAR
);

-- One row per CSM-customer pair.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.csm_assignments (
    csm_id VARCHAR NOT NULL,
    csm_name VARCHAR NOT NULL,
    csm_email VARCHAR NOT NULL,
    region VARCHAR,
    slack_user_id VARCHAR,
    timezone VARCHAR,
    customer_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.conversions (
    conversion_id VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    conversion_date DATE NOT NULL,
    channel VARCHAR NOT NULL,
    campaign VARCHAR,
    revenue NUMBER(12, 2) NOT NULL
);

-- Credit for each conversion, one row per touchpoint per attribution model.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.attributions (
    conversion_id VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    touchpoint_channel VARCHAR NOT NULL,
    attribution_model VARCHAR NOT NULL,
    credit FLOAT NOT NULL
);

-- Daily engagement per channel.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.historical_engagement (
    customer_id VARCHAR NOT NULL,
    activity_date DATE NOT NULL,
    channel VARCHAR NOT NULL,
    sends NUMBER(12, 0) NOT NULL,
    opens NUMBER(12, 0) NOT NULL,
    clicks NUMBER(12, 0) NOT NULL,
    engagement_score FLOAT
);

-- Rates are fractions (0.215 = 21.5 %); spread is one standard deviation across the industry.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.industry_benchmarks (
    industry VARCHAR NOT NULL,
    metric_name VARCHAR NOT NULL,
    benchmark_value FLOAT NOT NULL,
    spread FLOAT
);

-- Searched by the CASE_STUDY_SEARCH Cortex Search service (case_study_search.sql).
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.case_studies (
    case_study_id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    industry VARCHAR,
    challenge VARCHAR,
    solution VARCHAR,
    results VARCHAR,
    content VARCHAR
);

-- Written by the product.

-- One row per (customer_id, report_week_start); report_id is derived from that pair.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports (
    report_id VARCHAR NOT NULL,
    csm_id VARCHAR,
    customer_id VARCHAR NOT NULL,
    report_week_start DATE NOT NULL,
    report_week_end DATE NOT NULL,
    full_report VARCHAR,
    generation_timestamp TIMESTAMP_NTZ NOT NULL,
    status VARCHAR NOT NULL,
    agent_thread_id VARCHAR,
    last_message_id NUMBER(38, 0),
    metadata VARIANT,
    generation_id VARCHAR,
    report_kind VARCHAR,
    subject_id VARCHAR
);

-- Reports being written: bulk-inserted here first, then MERGEd into weekly_reports in one
-- statement per batch (Snowflake has no upsert-on-insert), then deleted.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports_stage (
    batch_id VARCHAR NOT NULL,
    report_id VARCHAR NOT NULL,
    csm_id VARCHAR,
    customer_id VARCHAR NOT NULL,
    report_week_start DATE NOT NULL,
    report_week_end DATE NOT NULL,
    full_report VARCHAR,
    status VARCHAR NOT NULL,
    agent_thread_id VARCHAR,
    last_message_id NUMBER(38, 0),
    metadata VARCHAR,
    generation_id VARCHAR,
    report_kind VARCHAR,
    subject_id VARCHAR
);

-- One row per (report_id, section_key): the sections of the report row's generation. Each
-- save is a generation (generation_id on the report and on its sections); a save writes its
-- sections only if its MERGE won the report row, and deletes those of other generations.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.report_sections (
    report_id VARCHAR NOT NULL,
    section_key VARCHAR NOT NULL,
    position NUMBER(4, 0) NOT NULL,
    title VARCHAR NOT NULL,
    content VARCHAR,
    agent_message_id NUMBER(38, 0),
    status VARCHAR NOT NULL,
    error VARCHAR,
    generation_id VARCHAR
);

-- generation_id came after the first release: add it to tables created before.
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports ADD COLUMN IF NOT EXISTS generation_id VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports_stage
    ADD COLUMN IF NOT EXISTS generation_id VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.report_sections ADD COLUMN IF NOT EXISTS generation_id VARCHAR;

-- Report kinds came after the first release (core/kinds): a report is one per (report_kind,
-- subject_id, report_week_start, report_week_end); an EBR's end is always its start + 6, and
-- a kind taking date ranges keeps ranges of one start side by side (core/storage.py's MERGE
-- makes it one row per key: nothing here enforces it). customer_id keeps holding the subject
-- for every kind, so the queries written against weekly_reports before kinds still run; rows
-- stored before kinds are EBRs about their customer_id.
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports ADD COLUMN IF NOT EXISTS report_kind VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports ADD COLUMN IF NOT EXISTS subject_id VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports_stage
    ADD COLUMN IF NOT EXISTS report_kind VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports_stage
    ADD COLUMN IF NOT EXISTS subject_id VARCHAR;
UPDATE CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports
    SET report_kind = COALESCE(report_kind, 'ebr'), subject_id = COALESCE(subject_id, customer_id)
    WHERE report_kind IS NULL OR subject_id IS NULL;

-- One row per (report_id, recipient): the delivery ledger.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.report_deliveries (
    report_id VARCHAR NOT NULL,
    recipient VARCHAR NOT NULL,
    slack_channel_id VARCHAR,
    message_ts VARCHAR,
    status VARCHAR NOT NULL,
    attempts NUMBER(6, 0) NOT NULL,
    last_error VARCHAR,
    delivered_at TIMESTAMP_NTZ
);

-- Every question asked in a report's thread. status: answered, or refused when the answer
-- failed the guard (core/guard): then `answer` holds only the refusal the person saw (none of
-- the withheld answer), refusal_reason the guard's rule and why, agent_message_id NULL.
-- sql_text: the statements an answered follow-up's agent reported running (`;`-separated).
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.followups (
    report_id VARCHAR NOT NULL,
    asked_by VARCHAR,
    question VARCHAR NOT NULL,
    answer VARCHAR,
    parent_message_id NUMBER(38, 0),
    agent_message_id NUMBER(38, 0),
    asked_at TIMESTAMP_NTZ NOT NULL,
    status VARCHAR,
    refusal_reason VARCHAR,
    sql_text VARCHAR,
    followup_id VARCHAR,
    feedback VARCHAR,
    feedback_by VARCHAR,
    feedback_at TIMESTAMP_NTZ
);

-- The guard's columns and the answer's SQL came after the first release: add them to a
-- followups created before.
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.followups ADD COLUMN IF NOT EXISTS status VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.followups
    ADD COLUMN IF NOT EXISTS refusal_reason VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.followups ADD COLUMN IF NOT EXISTS sql_text VARCHAR;
-- followup_id names the exchange for the buttons under its answer; feedback is the latest click
-- of its feedback buttons (positive | negative), by whom and when. Older rows have none.
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.followups ADD COLUMN IF NOT EXISTS followup_id VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.followups ADD COLUMN IF NOT EXISTS feedback VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.followups ADD COLUMN IF NOT EXISTS feedback_by VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.followups
    ADD COLUMN IF NOT EXISTS feedback_at TIMESTAMP_NTZ;

-- Every run: the engine's own generation runs (scope NULL) and the weekly delivery runs.
-- A weekly run is claimed once per (week_start, scope) by the MERGE in core/runs.py; `owner`
-- (host, process id and a random part) holds the claim and refreshes `heartbeat_at` while it
-- runs, so a claim whose owner stopped can be taken over and the run resumed.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.report_runs (
    run_id VARCHAR NOT NULL,
    trigger VARCHAR NOT NULL,
    week_start DATE NOT NULL,
    started_at TIMESTAMP_NTZ NOT NULL,
    finished_at TIMESTAMP_NTZ,
    status VARCHAR NOT NULL,
    reports_generated NUMBER(9, 0),
    reports_failed NUMBER(9, 0),
    dms_sent NUMBER(9, 0),
    dms_failed NUMBER(9, 0),
    details VARIANT,
    scope VARCHAR,
    owner VARCHAR,
    heartbeat_at TIMESTAMP_NTZ
);

-- The claim columns came after the first release: add them to a report_runs created before.
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.report_runs ADD COLUMN IF NOT EXISTS scope VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.report_runs ADD COLUMN IF NOT EXISTS owner VARCHAR;
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.report_runs
    ADD COLUMN IF NOT EXISTS heartbeat_at TIMESTAMP_NTZ;

-- One row per csm_id (MERGEd by core/preferences.py): a paused CSM gets no scheduled DMs
-- before paused_until (NULL: until resumed); on-demand reports still work. email_reports is
-- the CSM's own choice about the weekly email (`/weekly-report email on|off`; NULL: the
-- channels WEEKLY_REPORT_DELIVERY names).
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.csm_preferences (
    csm_id VARCHAR NOT NULL,
    paused BOOLEAN NOT NULL,
    paused_until DATE,
    updated_at TIMESTAMP_NTZ NOT NULL,
    updated_by VARCHAR,
    email_reports BOOLEAN
);

-- email_reports came after the first release: add it to a csm_preferences created before.
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.csm_preferences
    ADD COLUMN IF NOT EXISTS email_reports BOOLEAN;

-- The local analyst's conversations, chained like Cortex Agent threads: a thread's first
-- user message has parent 0, every later one the id of the last assistant message.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.agent_threads (
    thread_id VARCHAR NOT NULL,
    origin_application VARCHAR,
    created_at TIMESTAMP_NTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.agent_messages (
    message_id NUMBER(38, 0) NOT NULL,
    thread_id VARCHAR NOT NULL,
    parent_message_id NUMBER(38, 0) NOT NULL,
    role VARCHAR NOT NULL,
    content VARCHAR,
    sql_text VARCHAR,
    created_at TIMESTAMP_NTZ NOT NULL
);

-- Coaching data (the sales-coaching review): loaded by the customer's call recorder and
-- coaching tool in production, by `weekly-report load-demo` locally. Read-only for the bot.
-- Its schema is created at the top of this file, before ANALYTICS.

-- Everyone who speaks on a call: our reps and managers (company_side TRUE; a rep's manager_id
-- is their manager's speaker_id) and the customers' people (company_side FALSE).
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.COACHING.speakers (
    speaker_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    email VARCHAR,
    company_side BOOLEAN NOT NULL,
    manager_id VARCHAR,
    slack_user_id VARCHAR,
    timezone VARCHAR
);

-- One row per call; rep_id is a company-side speaker_id, started_at is UTC.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.COACHING.calls (
    call_id VARCHAR NOT NULL,
    rep_id VARCHAR NOT NULL,
    title VARCHAR,
    customer_name VARCHAR,
    started_at TIMESTAMP_NTZ NOT NULL,
    duration_seconds INTEGER
);

-- One row per scored call. Scores are 0-100; objections is an ARRAY of short labels
-- ("pricing", "timing"); highlights a VARIANT array of
-- {speaker_id, speaker, offset_seconds, quote, objection}, each quote a line of the call's transcript.
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.COACHING.coaching_sessions (
    session_id VARCHAR NOT NULL,
    call_id VARCHAR NOT NULL,
    rep_id VARCHAR NOT NULL,
    created_at TIMESTAMP_NTZ NOT NULL,
    product_knowledge INTEGER,
    discovery INTEGER,
    objection_handling INTEGER,
    engagement INTEGER,
    overall_score INTEGER,
    objections ARRAY,
    highlights VARIANT
);

-- What was said, by whom, how many seconds into the call. rep_id is the call's rep (calls.rep_id)
-- on every line, whoever speaks it: an agent's SQL restricts transcripts to one rep on it, as it
-- does calls and coaching_sessions (core/kinds/coaching/scope.py).
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.COACHING.transcripts (
    call_id VARCHAR NOT NULL,
    speaker_id VARCHAR NOT NULL,
    offset_seconds INTEGER NOT NULL,
    text VARCHAR NOT NULL,
    rep_id VARCHAR
);

-- rep_id came after the first coaching tables: add it to a table created before, and fill it
-- from calls for the lines loaded before (runs again harmlessly: only lines without one).
ALTER TABLE IF EXISTS CUSTOMER_SUCCESS_DATA.COACHING.transcripts ADD COLUMN IF NOT EXISTS rep_id VARCHAR;
UPDATE CUSTOMER_SUCCESS_DATA.COACHING.transcripts
    SET rep_id = c.rep_id FROM CUSTOMER_SUCCESS_DATA.COACHING.calls AS c
    WHERE c.call_id = transcripts.call_id AND transcripts.rep_id IS NULL;

-- The semantic model that Cortex Analyst reads (executive_review_semantic_model.yaml) lives on
-- this internal stage; `weekly-report setup-snowflake` uploads it with PUT after this file.
-- @account-only
CREATE STAGE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.SEMANTIC_MODELS
    DIRECTORY = (ENABLE = TRUE)
    COMMENT = 'weekly-report: Cortex Analyst semantic model files';

-- The role the bot, the Cortex agent's tools and the weekly task run as. Grant it to the
-- (service) user the bot signs in as: GRANT ROLE WEEKLY_REPORT_ROLE TO USER <bot user>.
-- @account-only
CREATE ROLE IF NOT EXISTS WEEKLY_REPORT_ROLE
    COMMENT = 'weekly-report bot: reads customer data, writes reports, runs the Cortex agent';

-- Keep the role under SYSADMIN, as Snowflake recommends for custom roles.
-- @account-only
GRANT ROLE WEEKLY_REPORT_ROLE TO ROLE SYSADMIN;

-- Cortex Analyst, Cortex Search and Cortex Agents (incl. threads) need this database role.
-- @account-only
GRANT DATABASE ROLE SNOWFLAKE.CORTEX_USER TO ROLE WEEKLY_REPORT_ROLE;

-- Queries, the search index refresh and the agent's SQL run on this warehouse.
-- @account-only
GRANT USAGE ON WAREHOUSE CUSTOMER_SUCCESS_WH TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT USAGE ON DATABASE CUSTOMER_SUCCESS_DATA TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT USAGE ON SCHEMA CUSTOMER_SUCCESS_DATA.ANALYTICS TO ROLE WEEKLY_REPORT_ROLE;

-- Source data is read-only for the bot: the customer's pipelines own it.
-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.customers TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.csm_assignments TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.conversions TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.attributions TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.historical_engagement TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.industry_benchmarks TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.case_studies TO ROLE WEEKLY_REPORT_ROLE;

-- The product's own tables: reports, sections, deliveries, follow-ups, runs, pauses, local threads.
-- @account-only
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports
    TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports_stage
    TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.report_sections
    TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.report_deliveries
    TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.followups
    TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.report_runs
    TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.csm_preferences
    TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.agent_threads
    TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.agent_messages
    TO ROLE WEEKLY_REPORT_ROLE;

-- Cortex Analyst reads the semantic model file from the stage with the caller's role.
-- @account-only
GRANT READ ON STAGE CUSTOMER_SUCCESS_DATA.ANALYTICS.SEMANTIC_MODELS TO ROLE WEEKLY_REPORT_ROLE;

-- The coaching data is read-only for the bot, like the EBR's source data.
-- @account-only
GRANT USAGE ON SCHEMA CUSTOMER_SUCCESS_DATA.COACHING TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.COACHING.speakers TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.COACHING.calls TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.COACHING.coaching_sessions TO ROLE WEEKLY_REPORT_ROLE;

-- @account-only
GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.COACHING.transcripts TO ROLE WEEKLY_REPORT_ROLE;
