-- Gallery shards: galleries held by other PostgreSQL servers (each with
-- refuge installed, the same version), which HQ, the coordinator, searches
-- through postgres_fdw.  Each shard computes its own top candidates with
-- its own index (refuge is a shippable extension of the foreign server, so
-- ORDER BY template <-> probe LIMIT k runs there); all shards are searched
-- at once (asynchronous foreign scans) and HQ keeps the best.  The servers,
-- user mappings and foreign tables are the DBA's (README, Sharding the
-- gallery); refuge.add_gallery_shard checks and registers them.  The
-- functions are functions/44_gallery_shards.sql.
create table refuge.gallery_shard (
    name            text primary key check (name ~ '^[a-z][a-z0-9_]{0,30}$'),
    server          name not null unique,
    iris_table      regclass not null unique,
    finger_table    regclass not null unique,
    added_at        timestamptz not null default now(),
    added_by        name not null default current_user
);
comment on table refuge.gallery_shard is
    'gallery shards searched through postgres_fdw: the foreign server and the foreign tables of its biometric_iris and biometric_finger';
comment on column refuge.gallery_shard.server is 'the postgres_fdw foreign server (extensions ''refuge'', async_capable ''true'')';
comment on column refuge.gallery_shard.iris_table is 'foreign table of the shard''s refuge.biometric_iris (individual_id, eye, template)';
comment on column refuge.gallery_shard.finger_table is 'foreign table of the shard''s refuge.biometric_finger (individual_id, position, template)';
create policy staff_read on refuge.gallery_shard for select to refuge_dba, refuge_biometrics_admin using (true);
grant select on refuge.gallery_shard to refuge_dba, refuge_biometrics_admin;
select pg_catalog.pg_extension_config_dump('refuge.gallery_shard', '');

-- On a shard: what HQ's coordinator reads through its user mapping (a login
-- that is a member of refuge_gallery_reader), and no more: the gallery's
-- ids, eyes, positions and templates, and the distance functions.
create policy gallery_read on refuge.biometric_iris for select to refuge_gallery_reader using (true);
create policy gallery_read on refuge.biometric_finger for select to refuge_gallery_reader using (true);
grant select (individual_id, eye, template) on refuge.biometric_iris to refuge_gallery_reader;
grant select (individual_id, position, template) on refuge.biometric_finger to refuge_gallery_reader;
grant execute on function refuge.iris_distance(refuge.iris, refuge.iris),
    refuge.fingerprint_distance(refuge.fingerprint, refuge.fingerprint) to refuge_gallery_reader;
