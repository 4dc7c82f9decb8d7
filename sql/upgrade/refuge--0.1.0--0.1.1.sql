-- refuge 0.1.0 -> 0.1.1
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.1.1'" to load this file. \quit

-- No catalogue change: 0.1.1 only moves the version so that the upgrade path
-- is exercised from the first release on (ALTER EXTENSION refuge UPDATE).
select 1;
