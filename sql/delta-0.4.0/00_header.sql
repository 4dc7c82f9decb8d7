-- refuge 0.3.0 -> 0.4.0: identity management.  Person-level biometric
-- enrolment with race-free deduplication, adjudication, 1:1 verification, the
-- encrypted HQ vault of source images, and assistance distributions with
-- verified collection.  Built from the fragments in sql/delta-0.4.0/.
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.4.0'" to load this file. \quit
