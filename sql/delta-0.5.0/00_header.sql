-- refuge 0.4.0 -> 0.5.0: case management.  One workflow engine (definitions
-- are data) for RSD, resettlement, BIA/BID, SGBV, statelessness, tracing,
-- vulnerability, voluntary repatriation, local integration and fraud;
-- approvals, assignment and overdue alerts, encrypted confidential notes,
-- partner referrals, transfers, and a hash-chained audit trail with logged
-- sensitive reads.  Built from the fragments in sql/delta-0.5.0/.
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.5.0'" to load this file. \quit
