-- pgbench baseline: the same family's group, people and memberships written
-- with plain INSERTs (no validation, no triggers, no audit): what the server
-- needs at the least to store a family of five.
\set id random(1, 5000)
begin;
set local session_replication_role = replica;
insert into bench.raw_group select gen_random_uuid(), p from bench.payload where id = :id;
insert into bench.raw_person select gen_random_uuid(), m from bench.payload, jsonb_array_elements(p -> 'members') m where id = :id;
commit;
