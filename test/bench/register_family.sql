-- pgbench script: register one pre-generated family (a fresh request id each time).
\set id random(1, 5000)
select refuge.register_group(p || jsonb_build_object('request_id', gen_random_uuid())) from bench.payload where id = :id;
