-- refuge 0.6.0 -> 0.7.0: trustworthy under attack.  Images validated when
-- they enter and decoded only under our own error handling; reads logged by
-- a worker whose commit survives the reader's rollback; an audit trail
-- scoped like the rows it describes and guarded against TRUNCATE, replica
-- mode and back-dating; analysts limited to disclosure-controlled
-- aggregates; identifiers and names normalised; alerts without content.
-- Built from the fragments in sql/delta-0.7.0/.
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.7.0'" to load this file. \quit
