-- weekly-report, optional: a row access policy on the customer tables, for accounts where each
-- CSM queries Snowflake as themselves (their own user or role: Snowflake Intelligence, a BI
-- tool, a per-user OAuth agent). Not run by `weekly-report setup-snowflake` unless asked:
--   weekly-report setup-snowflake --only row_access_policy.sql
--
-- Cortex Analyst runs its SQL with the caller's role, so the policy filters the rows of every
-- statement a CSM's own agent runs to the customers mapped to that CSM, whatever the SQL says.
-- It does not separate CSMs when one bot user asks for everyone (the default deployment: the
-- bot's WEEKLY_REPORT_ROLE must read every customer to write the Monday reports), which is
-- why the bot also checks every answer's SQL itself (README, Security).
--
-- Who sees what: rows of customer_access (principal = a role or user name, customer_id); the
-- bot's role and WEEKLY_REPORT_ADMIN see every row. Fill customer_access from your CSM
-- assignments, e.g.
--   INSERT INTO CUSTOMER_SUCCESS_DATA.ANALYTICS.customer_access (principal, customer_id)
--   SELECT UPPER(SPLIT_PART(csm_email, '@', 1)), customer_id FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.csm_assignments;
-- Needs: setup.sql. Run it with a role that owns the tables (or has APPLY ROW ACCESS POLICY);
-- the policy body reads customer_access with that owner's rights, so CSMs need no grant on it.
-- Re-running it is safe: each table's row access policies are dropped and this one added again
-- (so it replaces any other row access policy on these four tables).

CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.customer_access (
    principal VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL
);

CREATE ROLE IF NOT EXISTS WEEKLY_REPORT_ADMIN
    COMMENT = 'weekly-report: sees every customer through the customer_rows row access policy';

CREATE ROW ACCESS POLICY IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.customer_rows
    AS (row_customer_id VARCHAR) RETURNS BOOLEAN ->
    IS_ROLE_IN_SESSION('WEEKLY_REPORT_ROLE')
    OR IS_ROLE_IN_SESSION('WEEKLY_REPORT_ADMIN')
    OR EXISTS (
        SELECT 1
        FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.customer_access AS access
        WHERE access.customer_id = row_customer_id
          AND access.principal IN (CURRENT_ROLE(), CURRENT_USER())
    )
    COMMENT = 'weekly-report: a CSM sees only the customers customer_access maps to their role or user';

ALTER TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.customers DROP ALL ROW ACCESS POLICIES;

ALTER TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.customers
    ADD ROW ACCESS POLICY CUSTOMER_SUCCESS_DATA.ANALYTICS.customer_rows ON (customer_id);

ALTER TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.conversions DROP ALL ROW ACCESS POLICIES;

ALTER TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.conversions
    ADD ROW ACCESS POLICY CUSTOMER_SUCCESS_DATA.ANALYTICS.customer_rows ON (customer_id);

ALTER TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.attributions DROP ALL ROW ACCESS POLICIES;

ALTER TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.attributions
    ADD ROW ACCESS POLICY CUSTOMER_SUCCESS_DATA.ANALYTICS.customer_rows ON (customer_id);

ALTER TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.historical_engagement DROP ALL ROW ACCESS POLICIES;

ALTER TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.historical_engagement
    ADD ROW ACCESS POLICY CUSTOMER_SUCCESS_DATA.ANALYTICS.customer_rows ON (customer_id);
