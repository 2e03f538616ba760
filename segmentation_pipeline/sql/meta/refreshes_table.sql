-- Which days each table was rewritten for, in order: the staging tables per window of days they
-- staged, the customer-level histories per window they recomputed. A history recomputes the days
-- its inputs rewrote since its own last refresh (see `dirty_window.sql`).
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SEQUENCE IF NOT EXISTS meta.refresh_order;
CREATE TABLE IF NOT EXISTS meta.refreshes (
    refresh BIGINT DEFAULT nextval('meta.refresh_order'),
    asset VARCHAR,
    first_day DATE,
    end_day DATE,
    refreshed_at TIMESTAMP DEFAULT current_timestamp
);
-- What the source held for each staged event day: its rows and a fingerprint of their values, so a
-- run restages only the days whose source rows are new, changed or gone.
CREATE TABLE IF NOT EXISTS meta.staged_days (
    table_name VARCHAR, day DATE, source_rows BIGINT, fingerprint HUGEINT
);
