-- weekly-report, step 3 of 5: the Cortex Search service over case studies.
--
-- The agent's cortex_search tool (agent.sql) uses it to find a case study for each
-- recommendation. Search runs on the text of `content`; `industry` and `title` are attributes,
-- so a query can be filtered to the customer's industry ({"@eq": {"industry": "Retail"}}).
-- The service re-reads case_studies within TARGET_LAG of a change, on CUSTOMER_SUCCESS_WH.
--
-- Needs: setup.sql (table, warehouse, role). Run with the role that owns case_studies.

CREATE OR REPLACE CORTEX SEARCH SERVICE CUSTOMER_SUCCESS_DATA.ANALYTICS.CASE_STUDY_SEARCH
    ON content
    ATTRIBUTES industry, title
    WAREHOUSE = CUSTOMER_SUCCESS_WH
    TARGET_LAG = '1 hour'
    COMMENT = 'weekly-report: case studies for the executive review agent'
    AS
    SELECT
        case_study_id,
        title,
        industry,
        -- Rows loaded without a combined text still get one to search.
        COALESCE(
            content,
            title || '. Challenge: ' || COALESCE(challenge, '') || ' Solution: ' || COALESCE(solution, '')
                || ' Results: ' || COALESCE(results, '')
        ) AS content,
        challenge,
        solution,
        results
    FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.case_studies;

-- The bot's role queries the service through the agent (and may query it directly).
GRANT USAGE ON CORTEX SEARCH SERVICE CUSTOMER_SUCCESS_DATA.ANALYTICS.CASE_STUDY_SEARCH
    TO ROLE WEEKLY_REPORT_ROLE;
