-- refuge 0.5.0 -> 0.6.0: the data warehouse.  refuge.snapshot() freezes a
-- consistent, pseudonymous copy of the facts (people, families, cases, case
-- steps) into partitions of schema refuge_warehouse that nobody can change;
-- views and functions over the snapshots give population statistics in the
-- UNHCR age brackets, flows between snapshots, case-processing times,
-- forecasts, an HXL export and a population pyramid in SVG.  Built from the
-- fragments in sql/delta-0.6.0/.
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.6.0'" to load this file. \quit
