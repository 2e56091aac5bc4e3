-- The weekly-report schema: the single source of truth for every table.
-- Snowflake SQL. Applied as-is by `weekly-report setup-snowflake` on an account and by the
-- embedded warehouse (DuckDB through fakesnow). Every statement is idempotent.
--
-- Snowflake does not enforce PRIMARY KEY / UNIQUE on standard tables, so none are declared:
-- "one row per key" comes from the MERGE statements in core/storage.py, on both backends.

CREATE DATABASE IF NOT EXISTS CUSTOMER_SUCCESS_DATA;
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
    metadata VARIANT
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
    metadata VARCHAR
);

-- One row per (report_id, section_key).
CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.report_sections (
    report_id VARCHAR NOT NULL,
    section_key VARCHAR NOT NULL,
    position NUMBER(4, 0) NOT NULL,
    title VARCHAR NOT NULL,
    content VARCHAR,
    agent_message_id NUMBER(38, 0),
    status VARCHAR NOT NULL,
    error VARCHAR
);

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

CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.followups (
    report_id VARCHAR NOT NULL,
    asked_by VARCHAR,
    question VARCHAR NOT NULL,
    answer VARCHAR,
    parent_message_id NUMBER(38, 0),
    agent_message_id NUMBER(38, 0),
    asked_at TIMESTAMP_NTZ NOT NULL
);

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
    details VARIANT
);

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
