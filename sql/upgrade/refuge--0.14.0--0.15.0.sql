-- refuge 0.14.0 -> 0.15.0: a case file's audit values sealed under the
-- case's own key; the text of the case files of erased people alone goes
-- with them; ERASED set by erasure only; long subject access reports print;
-- who consents for another must be plausible; the demographic search cheaper (its
-- profiles hold the facts it compares)
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.15.0'" to load this file. \quit

-- a shard's reader of the gallery for HQ's coordinator (as sql/01_roles.sql)
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'refuge_gallery_reader') then
        create role refuge_gallery_reader nologin;
    end if;
end
$$;
comment on role refuge_gallery_reader is 'refuge: on a gallery shard, what HQ''s coordinator reads through postgres_fdw (the gallery''s ids and templates, and the distances); for the login of its user mapping';
grant usage on schema refuge to refuge_gallery_reader;

-- the case file's tables: their audit values sealed under the case's key
-- ('@case', extension/audit.c), as sql/99_security.sql
do $$
declare
    t record;
begin
    for t in select * from (values
        ('case_alert', array['self', '@case']),
        ('case_approval', array['none', '@case']),
        ('case_document', array['none', 'content', 'sealed', '@case']),
        ('case_event', array['none', '@case']),
        ('case_link', array['none', '@case']),
        ('case_note', array['none', 'sealed', 'body', '@case']),
        ('case_referral', array['none', '@case']),
        ('case_transfer', array['none', '@case']),
        ('gbv_incident', array['none', 'sealed', '@case']),
        ('process_case', array['self', '@case'])) v(tab, audit_args)
    loop
        execute format('drop trigger audit on refuge.%I', t.tab);
        execute format('create trigger audit after insert or update or delete on refuge.%I
                        for each row execute function refuge.audit_row(%s)', t.tab,
                       (select string_agg(quote_literal(a), ', ') from unnest(t.audit_args) a));
        execute format('alter table refuge.%I enable always trigger audit', t.tab);
    end loop;
end
$$;

-- the facts the demographic search compares, copied into each profile so
-- that a candidate is one lookup (extension/demographic.c)
alter table refuge.match_profile
    add column dob date, add column dob_precision text, add column sex text, add column birth_country text,
    add column site uuid, add column operation uuid, add column registered_on date, add column record_status text;
comment on table refuge.match_profile is
    'internal: each person''s names in canonical form and blocking keys (refuge.name_canonical, refuge.name_block_keys), and the facts the search compares, kept by triggers';
comment on column refuge.match_profile.dob is 'individual.date_of_birth (as are dob_precision, sex, birth_country, site = site_id, operation = operation_id, registered_on = registration_date, record_status = status)';
update refuge.match_profile p
   set dob = i.date_of_birth, dob_precision = i.dob_precision, sex = i.sex, birth_country = i.birth_country,
       site = i.site_id, operation = i.operation_id, registered_on = i.registration_date, record_status = i.status
  from refuge.individual i
 where i.id = p.individual_id;
-- and the household blocking keys (filled below, once their functions exist)
-- (no default while it is added: a default would need no function to use
-- the table's row type, and refuge.shared_namesakes does)
alter table refuge.match_profile add column household_keys text[];
update refuge.match_profile set household_keys = '{}';
alter table refuge.match_profile alter column household_keys set default '{}',
    alter column household_keys set not null;
comment on column refuge.match_profile.household_keys is 'blocking keys of the household (refuge.household_keys_of): the person''s given name with each other member''s, so that a family registered again is found however common its names';
comment on table refuge.match_block is
    'internal: blocking keys of the demographic search (name keys and pairs of them, household keys, by birth year)';

-- sql/33_gallery_shards.sql
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

-- functions/44_gallery_shards.sql
-- Gallery shards (sql/33_gallery_shards.sql): registering a shard, and the
-- coordinator's 1:N search over every shard at once.

-- Whether a relation is a foreign table of a server.
create function refuge.foreign_table_of(rel regclass, server name) returns boolean
    language sql stable
    return exists (select 1 from pg_catalog.pg_foreign_table f
                     join pg_catalog.pg_foreign_server v on v.oid = f.ftserver
                    where f.ftrelid = rel and v.srvname = server);
comment on function refuge.foreign_table_of(regclass, name) is
    'internal: whether a relation is a foreign table of the named foreign server';

-- Register a shard after checking what the search relies on: a postgres_fdw
-- server that ships refuge's operators (else every row of the gallery
-- would cross the network) and runs asynchronously (else the shards would
-- be searched one after another), foreign tables of that server for the
-- shard's refuge.biometric_iris and refuge.biometric_finger with the
-- columns searched, readable by the extension's owner (the search runs as
-- it, through its user mapping).
create function refuge.add_gallery_shard(shard text, server name, iris_table regclass, finger_table regclass)
    returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    srv record;
    t record;
begin
    perform refuge.authorize('refuge_dba', 'add_gallery_shard');
    if shard is null or shard !~ '^[a-z][a-z0-9_]{0,30}$' then
        perform refuge.raise_field('22023', 'shard', 'a lower-case name of letters, digits and _, 31 characters at most');
    end if;
    select s.oid, s.srvname, w.fdwname, coalesce(s.srvoptions, '{}') as options into srv
      from pg_catalog.pg_foreign_server s join pg_catalog.pg_foreign_data_wrapper w on w.oid = s.srvfdw
     where s.srvname = server;
    if srv.oid is null then
        perform refuge.raise_field('42704', 'server', format('no foreign server %s', server));
    elsif srv.fdwname <> 'postgres_fdw' then
        perform refuge.raise_field('22023', 'server', format('%s is a server of %s, not postgres_fdw', server, srv.fdwname));
    elsif not exists (select 1 from unnest(srv.options) o
                       where o like 'extensions=%'
                         and 'refuge' = any (string_to_array(replace(substr(o, 12), ' ', ''), ','))) then
        perform refuge.raise_field('22023', 'server',
            format('%s does not list refuge in its option extensions: the distances would be computed here, over every row of the shard''s gallery', server),
            'ALTER SERVER ... OPTIONS (ADD extensions ''refuge'')');
    elsif not exists (select 1 from unnest(srv.options) o
                       where o like 'async_capable=%' and substr(o, 15)::boolean) then
        perform refuge.raise_field('22023', 'server',
            format('%s is not async_capable: the shards would be searched one after another', server),
            'ALTER SERVER ... OPTIONS (ADD async_capable ''true'')');
    end if;
    for t in select * from (values ('iris_table', iris_table, 'biometric_iris', array['individual_id:uuid', 'eye:text', 'template:refuge.iris']),
                                   ('finger_table', finger_table, 'biometric_finger',
                                    array['individual_id:uuid', 'position:smallint', 'template:refuge.fingerprint'])) v(field, rel, remote, cols)
    loop
        if not refuge.foreign_table_of(t.rel, server) then
            perform refuge.raise_field('22023', t.field, format('%s is not a foreign table of server %s', t.rel, server));
        end if;
        if coalesce((select substr(o, 12) from pg_catalog.pg_foreign_table f, unnest(f.ftoptions) o
                      where f.ftrelid = t.rel and o like 'table_name=%'), (select c.relname::text from pg_catalog.pg_class c where c.oid = t.rel))
           <> t.remote
           or coalesce((select substr(o, 13) from pg_catalog.pg_foreign_table f, unnest(f.ftoptions) o
                         where f.ftrelid = t.rel and o like 'schema_name=%'),
                       (select n.nspname::text from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                         where c.oid = t.rel)) <> 'refuge' then
            perform refuge.raise_field('22023', t.field, format('%s must be the shard''s refuge.%s', t.rel, t.remote));
        end if;
        if exists (select 1 from pg_catalog.pg_foreign_table f, unnest(f.ftoptions) o
                    where f.ftrelid = t.rel and o like 'async_capable=%' and not substr(o, 15)::boolean) then
            perform refuge.raise_field('22023', t.field, format('%s is not async_capable: the shards would be searched one after another', t.rel));
        end if;
        if exists (select 1 from unnest(t.cols) c(x)
                    where not exists (select 1 from pg_catalog.pg_attribute a
                                       where a.attrelid = t.rel and a.attnum > 0 and not a.attisdropped
                                         and a.attname = split_part(c.x, ':', 1)
                                         and a.atttypid = split_part(c.x, ':', 2)::regtype
                                         and coalesce((select substr(o, 13) from unnest(a.attfdwoptions) o
                                                        where o like 'column_name=%'), a.attname::text) = a.attname::text)) then
            perform refuge.raise_field('22023', t.field, format('%s must have the columns %s', t.rel, array_to_string(t.cols, ', ')));
        end if;
        if not pg_catalog.has_table_privilege('refuge_owner', t.rel, 'select') then
            perform refuge.raise_field('42501', t.field, format('refuge_owner may not read %s: the search runs as it', t.rel),
                                       format('GRANT SELECT ON %s TO refuge_owner, and a user mapping for refuge_owner', t.rel));
        end if;
    end loop;
    insert into refuge.gallery_shard (name, server, iris_table, finger_table, added_by)
    values (shard, server, iris_table, finger_table, refuge.caller());
end
$$;
comment on function refuge.add_gallery_shard(text, name, regclass, regclass) is
    'register a gallery shard (refuge_dba): its postgres_fdw server (extensions refuge, async_capable) and foreign tables of its biometric_iris and biometric_finger';
grant execute on function refuge.add_gallery_shard(text, name, regclass, regclass) to refuge_dba;

create function refuge.remove_gallery_shard(shard text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize('refuge_dba', 'remove_gallery_shard');
    delete from refuge.gallery_shard g where g.name = shard;
    if not found then
        perform refuge.raise_field('42704', 'shard', format('no gallery shard %s', shard));
    end if;
end
$$;
comment on function refuge.remove_gallery_shard(text) is
    'stop searching a gallery shard (refuge_dba); its server and tables stay';
grant execute on function refuge.remove_gallery_shard(text) to refuge_dba;

-- The statement that searches every shard for one part: each shard's best
-- per_search by distance to $1, computed there (ORDER BY and LIMIT shipped),
-- under an Append that runs the shards at once, then the best per_search of
-- all (ORDER BY d + 0: a Merge Append would neither run asynchronously nor
-- ship the LIMIT; ../shared/design/postgres-notes.md 4.2).  modality 'iris'
-- (part 1 right, 2 left: every eye is searched) or 'finger' (part: the
-- position, a literal so that each shard uses that position's index).
create function refuge.shard_search_sql(modality text, part integer, per_search integer) returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    parts text[];
begin
    if modality not in ('iris', 'finger') then
        perform refuge.raise_field('22023', 'modality', 'iris or finger');
    end if;
    if per_search is null or per_search < 1 or per_search > 1000 then
        perform refuge.raise_field('22023', 'per_search', 'between 1 and 1000');
    end if;
    if modality = 'finger' and (part is null or part not between 1 and 10) then
        perform refuge.raise_field('22023', 'part', 'a finger position between 1 and 10');
    end if;
    parts := array(
        select format('(select %L::text as shard, g.individual_id, (g.template operator(refuge.<->) $1)::float8 as distance
                          from %s g%s order by g.template operator(refuge.<->) $1 limit %s)',
                      s.name, case modality when 'iris' then s.iris_table else s.finger_table end,
                      case modality when 'finger' then format(' where g.position = %s', part) else '' end, per_search)
          from refuge.gallery_shard s order by s.name);
    if cardinality(parts) = 0 then
        return null;
    end if;
    return format('select x.shard, x.individual_id, x.distance from (%s) x order by x.distance + 0, x.shard, x.individual_id limit %s',
                  array_to_string(parts, ' union all '), per_search);
end
$$;
comment on function refuge.shard_search_sql(text, integer, integer) is
    'internal: the statement searching every gallery shard for one part (probe $1), per-shard top-k shipped, shards at once';

-- The coordinator's 1:N search: the best per_search of every shard's
-- gallery for each eye and each finger of the probe, as one server holding
-- every shard's people would return them (candidates, distances).  A shard
-- that cannot be reached refuses the search: a search of part of the
-- gallery would let a person enrol twice.  Internal, as
-- refuge.dedup_candidates is: a search of who matches a biometric is a
-- sensitive read, which the API functions that will call it log.
create function refuge.shard_candidates(fingers refuge.fingerprint[], irises refuge.iris[], per_search integer default 3)
    returns table (shard text, individual_id uuid, modality text, part integer, rank integer, distance double precision)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    probe refuge.fingerprint;
    stale text;
    q text;
    msg text;
    detail text;
begin
    if cardinality(irises) > 2 then
        perform refuge.raise_field('22023', 'irises', 'at most two codes: [right, left]');
    end if;
    if cardinality(fingers) > 10 then
        perform refuge.raise_field('22023', 'fingers', 'at most ten templates');
    end if;
    if not exists (select 1 from refuge.gallery_shard) then
        perform refuge.raise_field('55000', 'gallery_shard', 'no gallery shard is registered (refuge.add_gallery_shard)');
    end if;
    -- what was registered must still stand: foreign tables of the shard's
    -- server (dropped or re-imported, they would be other relations or none)
    stale := (select string_agg(s.name, ', ' order by s.name) from refuge.gallery_shard s
               where not refuge.foreign_table_of(s.iris_table, s.server)
                  or not refuge.foreign_table_of(s.finger_table, s.server));
    if stale is not null then
        perform refuge.raise_field('55000', 'gallery_shard',
            format('the foreign tables of shard %s are gone or belong to another server: the search is refused', stale),
            'Register the shard again (refuge.remove_gallery_shard, refuge.add_gallery_shard).');
    end if;
    begin
        for e in 1 .. coalesce(cardinality(irises), 0) loop
            continue when irises[e] is null;
            q := refuge.shard_search_sql('iris', e, per_search);
            exit when q is null;
            return query execute format('select s.shard, s.individual_id, ''iris''::text, %s, (row_number() over (order by s.distance, s.shard, s.individual_id))::integer, s.distance from (%s) s',
                                        e, q) using irises[e];
        end loop;
        foreach probe in array coalesce(fingers, '{}') loop
            q := refuge.shard_search_sql('finger', refuge.fingerprint_position(probe), per_search);
            exit when q is null;
            return query execute format('select s.shard, s.individual_id, ''finger''::text, %s, (row_number() over (order by s.distance, s.shard, s.individual_id))::integer, s.distance from (%s) s',
                                        refuge.fingerprint_position(probe), q) using probe;
        end loop;
    exception
        when sqlstate '08000' or sqlstate '08001' or sqlstate '08003' or sqlstate '08004'
             or sqlstate '08006' or sqlstate '08007' or sqlstate '57P01' or sqlstate '57P03' then
            get stacked diagnostics msg = message_text;
            raise exception using errcode = '08001', schema = 'refuge',
                message = 'a gallery shard cannot be reached: the search is refused (part of the gallery would not be searched)',
                -- (the first line names the server; not the address or the user)
                detail = split_part(msg, E'\n', 1),
                hint = 'Bring the shard back, or remove it with refuge.remove_gallery_shard once its people are held elsewhere.';
        when others then
            -- (re-raised without the remote statement in its context: it
            -- holds the probe's template as a literal)
            get stacked diagnostics msg = message_text, detail = returned_sqlstate;
            raise exception using errcode = detail, schema = 'refuge',
                message = 'the search of the gallery shards failed: ' || split_part(msg, E'\n', 1);
    end;
end
$$;
comment on function refuge.shard_candidates(refuge.fingerprint[], refuge.iris[], integer) is
    'internal: the coordinator''s 1:N search of every gallery shard, the best per_search of all shards for each eye and finger, refused if a shard cannot be reached';

-- functions/43_demographic.sql: match_profile_rows
create or replace function refuge.match_profile_rows(ids uuid[]) returns setof refuge.match_profile
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select i.id, f.names, refuge.name_block_keys(f.names),
           coalesce(extract(year from i.date_of_birth)::smallint, 0::smallint),
           array_remove(array[refuge.name_canonical(i.mother_name), refuge.name_canonical(i.father_name)], null),
           refuge.name_canonical(i.place_of_birth), now(),
           i.date_of_birth, i.dob_precision, i.sex, i.birth_country, i.site_id, i.operation_id, i.registration_date,
           i.status, '{}'::text[]
      from refuge.individual i
     cross join lateral (
        -- the registered name first, then its other forms, 16 at most
        select coalesce(array_agg(y.c order by y.ord), '{}') as names
          from (select x.c, min(x.ord) as ord
                  from (select 1::bigint as ord,
                               refuge.name_canonical(concat_ws(' ', i.given_name, i.middle_name, i.family_name,
                                                               i.second_family_name)) as c
                        union all
                        select 2, refuge.name_canonical(concat_ws(' ', i.given_name, i.middle_name, i.maiden_name))
                         where i.maiden_name is not null
                        union all
                        select 2 + 2 * row_number() over (order by n.created_at, n.id),
                               refuge.name_canonical(concat_ws(' ', n.given_name, n.middle_name, n.family_name,
                                                               n.second_family_name))
                          from refuge.individual_name n where n.individual_id = i.id
                        union all
                        select 3 + 2 * row_number() over (order by n.created_at, n.id),
                               refuge.name_canonical(concat_ws(' ', n.given_name, n.middle_name, n.maiden_name))
                          from refuge.individual_name n where n.individual_id = i.id and n.maiden_name is not null) x
                 where x.c is not null
                 group by x.c order by 2 limit 16) y) f
     where i.id in (select unnest(ids))
       -- (a tombstone is nobody's duplicate: erase_individual removed its profile)
       and i.status <> 'ERASED';
end;

-- functions/43_demographic.sql: refresh_match_profiles
create or replace function refuge.refresh_match_profiles(ids uuid[]) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    -- the owner's policies apply even where a superuser turned row security off
    set row_security = on
as $$
begin
    delete from refuge.match_block b
     using (select p.individual_id, p.birth_year, k.key
              from refuge.match_profile p cross join unnest(p.keys || p.household_keys) k(key)
             where p.individual_id in (select unnest(ids))) o
     where b.key = o.key and b.birth_year = o.birth_year and b.individual_id = o.individual_id;
    insert into refuge.match_profile as p
    select * from refuge.match_profile_rows(ids)
    on conflict (individual_id) do update
       set names = excluded.names, keys = excluded.keys, birth_year = excluded.birth_year,
           parents = excluded.parents, place = excluded.place, updated_at = excluded.updated_at,
           dob = excluded.dob, dob_precision = excluded.dob_precision, sex = excluded.sex,
           birth_country = excluded.birth_country, site = excluded.site, operation = excluded.operation,
           registered_on = excluded.registered_on, record_status = excluded.record_status,
           household_keys = '{}';
    insert into refuge.match_block (key, birth_year, individual_id)
    select distinct k.key, p.birth_year, p.individual_id
      from refuge.match_profile p cross join unnest(p.keys) k(key)
     where p.individual_id in (select unnest(ids))
    on conflict do nothing;
    -- (a person registered is in no household yet: group_membership's
    -- trigger makes the keys when they join one)
    perform refuge.refresh_household_keys(array(
        select m.individual_id from refuge.group_membership m
         where m.individual_id = any (ids) and m.valid_to is null));
end
$$;

-- functions/43_demographic.sql: match_profile_sync
create or replace function refuge.match_profile_sync() returns trigger
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ids uuid[];
    grps uuid[];
begin
    -- a restore (row security off) brings the profiles with the dump
    if current_setting('row_security') = 'off' and tg_op = 'INSERT' then
        return null;
    end if;
    -- a member came or left: the household keys of the people of the
    -- households concerned (those who left among them)
    if tg_table_name = 'group_membership' then
        if tg_level = 'ROW' then
            ids := '{}';
            grps := '{}';
            if tg_op <> 'DELETE' then
                ids := ids || new.individual_id;
                grps := grps || new.group_id;
            end if;
            if tg_op <> 'INSERT' then
                ids := ids || old.individual_id;
                grps := grps || old.group_id;
            end if;
        elsif tg_op = 'INSERT' then
            select array_agg(n.individual_id), array_agg(distinct n.group_id) into ids, grps from new_rows n;
        elsif tg_op = 'UPDATE' then
            -- (only rows whose household, person or end changed)
            select array_agg(x.individual_id), array_agg(distinct x.group_id) into ids, grps
              from new_rows n join old_rows o on o.id = n.id,
                   unnest(array[n.individual_id, o.individual_id], array[n.group_id, o.group_id]) x(individual_id, group_id)
             where (n.group_id, n.individual_id, n.valid_to) is distinct from (o.group_id, o.individual_id, o.valid_to);
        else
            select array_agg(o.individual_id), array_agg(distinct o.group_id) into ids, grps from old_rows o;
        end if;
        perform refuge.refresh_household_keys(ids, grps);
        return null;
    end if;
    if tg_level = 'ROW' and tg_table_name = 'individual' then
        ids := array[new.id];
    elsif tg_level = 'ROW' and tg_op = 'DELETE' then
        ids := array[old.individual_id];
    elsif tg_level = 'ROW' then
        ids := array[new.individual_id];
    elsif tg_table_name = 'individual' and tg_op = 'INSERT' then
        ids := array(select n.id from new_rows n);
    elsif tg_table_name = 'individual' then
        ids := array(select n.id from new_rows n join old_rows o on o.id = n.id
                      where (n.given_name, n.middle_name, n.family_name, n.second_family_name, n.maiden_name,
                             n.mother_name, n.father_name, n.date_of_birth, n.place_of_birth)
                            is distinct from
                            (o.given_name, o.middle_name, o.family_name, o.second_family_name, o.maiden_name,
                             o.mother_name, o.father_name, o.date_of_birth, o.place_of_birth));
        -- the other compared facts changed alone (a status, a transfer): the
        -- profile's copy of them, without touching the blocking keys
        perform refuge.refresh_match_facts(array(
            select n.id from new_rows n join old_rows o on o.id = n.id
             where n.id <> all (ids)
               and (n.dob_precision, n.sex, n.birth_country, n.site_id, n.operation_id, n.registration_date, n.status)
                   is distinct from
                   (o.dob_precision, o.sex, o.birth_country, o.site_id, o.operation_id, o.registration_date, o.status)));
    elsif tg_op = 'INSERT' then
        ids := array(select distinct n.individual_id from new_rows n);
    elsif tg_op = 'UPDATE' then
        ids := array(select n.individual_id from new_rows n union select o.individual_id from old_rows o);
    else
        ids := array(select distinct o.individual_id from old_rows o);
    end if;
    if cardinality(ids) > 0 then
        perform refuge.refresh_match_profiles(ids);
    end if;
    return null;
end
$$;

-- sql/15_audit.sql: append_only
create or replace function refuge.append_only() returns trigger
    language plpgsql
as $$
begin
    -- the owner's copy was guarded where it was written; a copy follows it
    if refuge.sync_applying() or (tg_op = 'DELETE' and refuge.sync_purging()) then
        return coalesce(NEW, OLD);
    end if;
    -- a case moving to another operation re-routes its events, HQ takes over
    -- the rows of a field site that closed; their content stays
    if tg_op = 'UPDATE' and to_jsonb(NEW) - array['sync_operation', 'sync_shared', 'sync_owner', 'updated_at', 'updated_by']
                            = to_jsonb(OLD) - array['sync_operation', 'sync_shared', 'sync_owner', 'updated_at', 'updated_by'] then
        return NEW;
    end if;
    -- a sealed note or document sealed again under a new vault key
    -- (refuge.rotate_vault_key): the same content, verified
    if tg_op = 'UPDATE' and tg_table_name in ('case_note', 'case_document') then
        if to_jsonb(NEW) - array['sealed', 'updated_at', 'updated_by'] = to_jsonb(OLD) - array['sealed', 'updated_at', 'updated_by']
           and NEW.sealed is not null and OLD.sealed is not null
           and refuge.vault_open(NEW.sealed, tg_table_name || ':' || NEW.id)
               = refuge.vault_open(OLD.sealed, tg_table_name || ':' || OLD.id) then
            return NEW;
        end if;
    end if;
    -- the purpose a reader gave, replaced once the person read about was
    -- erased (refuge.erasure_arrived): it can name them
    if tg_op = 'UPDATE' and tg_table_name in ('sensitive_read', 'vault_access') then
        if NEW.purpose = '(erased with the record)' and to_jsonb(NEW) - 'purpose' = to_jsonb(OLD) - 'purpose'
           and (exists (select 1 from refuge.individual i where i.id = NEW.individual_id and i.status = 'ERASED')
                or (tg_table_name = 'sensitive_read' and refuge.case_file_erased((to_jsonb(NEW) ->> 'case_id')::uuid))) then
            return NEW;
        end if;
    end if;
    -- what staff wrote in the case file of erased people alone, replaced
    -- (refuge.erase_case_files): only by the markers, nothing else changed
    if tg_op = 'UPDATE' and tg_table_name in ('case_note', 'case_document', 'case_event')
       and refuge.case_file_erased((to_jsonb(NEW) ->> 'case_id')::uuid) then
        if (tg_table_name = 'case_note'
            and to_jsonb(NEW) - array['body', 'sealed', 'confidential'] = to_jsonb(OLD) - array['body', 'sealed', 'confidential']
            and to_jsonb(NEW) @> '{"body": "(erased with the record)", "sealed": null, "confidential": false}')
           or (tg_table_name = 'case_document'
               and to_jsonb(NEW) - array['title', 'content', 'sealed', 'confidential', 'size_bytes', 'sha256']
                   = to_jsonb(OLD) - array['title', 'content', 'sealed', 'confidential', 'size_bytes', 'sha256']
               and to_jsonb(NEW) @> jsonb_build_object('title', '(erased with the record)', 'content', '\x', 'sealed', null,
                                                       'confidential', false, 'size_bytes', 0,
                                                       'sha256', sha256(''::bytea)::text))
           or (tg_table_name = 'case_event'
               and to_jsonb(NEW) - array['reason', 'data'] = to_jsonb(OLD) - array['reason', 'data']
               and coalesce(to_jsonb(NEW) ->> 'reason', '(erased with the record)') = '(erased with the record)'
               and to_jsonb(NEW) -> 'data' is not distinct from
                   refuge.case_codes_only((select c.module from refuge.process_case c
                                            where c.id = (to_jsonb(NEW) ->> 'case_id')::uuid),
                                          to_jsonb(OLD) -> 'data')) then
            return NEW;
        end if;
    end if;
    raise exception using errcode = '42501',
        message = format('%s is append-only: rows are never %s', tg_table_name,
                         case tg_op when 'DELETE' then 'deleted' else 'changed' end);
end
$$;

-- functions/46_erasure.sql: erase_rows
create or replace function refuge.erase_rows(p_individual uuid, p_local_only boolean) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    removed jsonb := '{}';
    n bigint;
    docs bigint;
begin
    -- (one static statement per table: planned once per session)
    delete from refuge.individual_name x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_name', n); end if;
    delete from refuge.individual_contact x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_contact', n); end if;
    delete from refuge.individual_address x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_address', n); end if;
    delete from refuge.individual_nationality x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_nationality', n); end if;
    delete from refuge.individual_language x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_language', n); end if;
    delete from refuge.individual_education x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_education', n); end if;
    delete from refuge.individual_occupation x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_occupation', n); end if;
    delete from refuge.individual_relative x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_relative', n); end if;
    delete from refuge.document x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('document', n); end if;
    delete from refuge.flight_leg x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('flight_leg', n); end if;
    delete from refuge.specific_need x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('specific_need', n); end if;
    delete from refuge.photo x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('photo', n); end if;
    delete from refuge.biometric_vault x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('biometric_vault', n); end if;
    delete from refuge.biometric_finger x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('biometric_finger', n); end if;
    delete from refuge.biometric_iris x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('biometric_iris', n); end if;
    update refuge.issued_document d
       set status = case when d.status = 'VALID' then 'REVOKED' else d.status end,
           ended_at = coalesce(d.ended_at, now()), ended_by = coalesce(d.ended_by, refuge.caller()),
           status_reason = case when d.status = 'VALID' then 'holder''s record erased' else d.status_reason end,
           payload = '', photo_digest = null
     where d.individual_id = p_individual and (not p_local_only or d.sync_owner = refuge.local_node());
    get diagnostics docs = row_count;
    if docs > 0 then
        removed := removed || jsonb_build_object('issued_document', docs);
    end if;
    -- the templates kept with each capture
    update refuge.biometric_capture b set fingers = '{}', irises = '{}', iris_quality = null
     where b.individual_id = p_individual and (cardinality(b.fingers) > 0 or cardinality(b.irises) > 0)
       and (not p_local_only or b.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then
        removed := removed || jsonb_build_object('biometric_capture_templates', n);
    end if;
    -- changes to the person's rows sent to other nodes keep their values:
    -- this node's earlier ones go (each node deletes its own when the
    -- erasure arrives: deleting another's would send its values as a
    -- request); the removals just requested of rows another node owns
    -- (applied by key, on arrival) keep no values
    delete from refuge.sync_change c
     where c.requested_at < now() and c.sync_owner = refuge.local_node()
       and (c.row_key ->> 'id' = p_individual::text or c.row_key ->> 'individual_id' = p_individual::text
            or c.new_values ->> 'individual_id' = p_individual::text or c.old_values ->> 'individual_id' = p_individual::text);
    update refuge.sync_change c set old_values = null
     where c.sync_owner = refuge.local_node() and c.requested_at = now() and c.action = 'DELETE' and c.old_values ->> 'individual_id' = p_individual::text;
    delete from refuge.sync_conflict c
     where c.sync_owner = refuge.local_node()
       and (c.row_key ->> 'id' = p_individual::text or c.kept_values ->> 'individual_id' = p_individual::text
        or c.lost_values ->> 'individual_id' = p_individual::text or c.base_values ->> 'individual_id' = p_individual::text);

    -- free text about the person: reasons given for status changes and
    -- withdrawals; pending status requests are rejected
    update refuge.status_change x
       set status = case when x.status = 'REQUESTED' then 'REJECTED' else x.status end,
           decided_by = coalesce(x.decided_by, refuge.caller()), decided_at = coalesce(x.decided_at, now()),
           reason = '(erased with the record)',
           decision_comment = case when x.decision_comment is not null or x.status = 'REQUESTED'
                                   then '(erased with the record)' end
     where x.individual_id = p_individual and (not p_local_only or x.sync_owner = refuge.local_node())
       and (x.reason <> '(erased with the record)' or x.status = 'REQUESTED');
    update refuge.status_history x set reason = '(erased with the record)'
     where x.individual_id = p_individual and x.reason is not null and x.reason <> '(erased with the record)'
       and (not p_local_only or x.sync_owner = refuge.local_node());
    update refuge.consent x set withdrawal_reason = null
     where x.individual_id = p_individual and x.withdrawal_reason is not null
       and (not p_local_only or x.sync_owner = refuge.local_node());
    -- (since 0.15.0) why the person's appointments were cancelled or missed
    update refuge.appointment x set status_reason = '(erased with the record)'
     where x.individual_id = p_individual and x.status_reason is not null
       and x.status_reason <> '(erased with the record)'
       and (not p_local_only or x.sync_owner = refuge.local_node());
    -- the person leaves their household (family ties of the others stay as ids)
    update refuge.group_membership x set valid_to = greatest(now(), x.valid_from), end_reason = 'CLOSURE'
     where x.individual_id = p_individual and x.valid_to is null
       and (not p_local_only or x.sync_owner = refuge.local_node());
    return removed;
end
$$;

-- functions/46_erasure.sql: erase_individual
create or replace function refuge.erase_individual(individual_id uuid, reason text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    why text := btrim(reason);
    removed jsonb;
    in_clear boolean;
    files uuid[];
begin
    perform refuge.authorize('refuge_admin', 'erase_individual');
    if erase_individual.individual_id is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    if why is null or why = '' then
        perform refuge.raise_field('22004', 'reason', 'is required');
    end if;
    if length(why) > 500 then
        perform refuge.raise_field('22001', 'reason', format('is %s characters long; at most 500', length(why)));
    end if;
    select * into p from refuge.individual i where i.id = erase_individual.individual_id;
    perform refuge.require_visible(p.id is not null and refuge.in_scope(p.operation_id, p.site_id), 'individual_id');
    select * into p from refuge.individual i where i.id = p.id for update;
    if p.status = 'ERASED' then
        perform refuge.raise_field('55000', 'individual_id', format('the record %s was already erased', p.number));
    end if;
    if p.sync_owner <> refuge.local_node() then
        perform refuge.raise_field('55000', 'individual_id',
            format('the record %s is owned by node %s; erase it there (the erasure reaches every node)',
                   p.number, p.sync_owner));
    end if;
    -- (one answer for every hold: the caller may not see the case or the investigation)
    if exists (select 1 from refuge.fraud_case f
                where (f.individual_id = p.id or f.other_id = p.id) and f.status = 'OPEN')
       or exists (select 1 from refuge.case_member cm join refuge.process_case c on c.id = cm.case_id
                   where cm.individual_id = p.id and not c.closed) then
        perform refuge.raise_field('55000', 'individual_id',
            format('the record %s is held by open work on it (a case or an investigation): it is erased once that is closed',
                   p.number));
    end if;
    if exists (select 1 from refuge.group_membership m
                where m.individual_id = p.id and m.valid_to is null and m.relationship = 'PA'
                  and exists (select 1 from refuge.group_membership o
                               where o.group_id = m.group_id and o.valid_to is null and o.individual_id <> p.id)) then
        perform refuge.raise_field('55000', 'individual_id',
            format('the record %s is the principal applicant of a household with other members: make another member principal first (refuge.set_principal)',
                   p.number));
    end if;
    if not refuge.vault_key_loaded() then
        perform refuge.raise_field('55000', 'individual_id',
            'the vault key is not loaded here: the audit trail''s values of the person could not be made unreadable',
            'A superuser sets refuge.vault_key_file (README, Data protection).');
    end if;

    -- audit rows of the person's rows written without their key (before the
    -- vault key was set) hold their values in clear
    in_clear := refuge.audit_in_clear(p.id);

    removed := refuge.erase_rows(p.id, false);

    update refuge.individual i
       set given_name = null, middle_name = null, family_name = '[erased]', second_family_name = null,
           maiden_name = null, mother_name = null, father_name = null, date_of_birth = null,
           dob_precision = 'ESTIMATED', place_of_birth = null, birth_country = null, ethnicity = null,
           religion = null, marital_status = null, education_level = null, arrival_date = null,
           status = 'ERASED', status_date = current_date, status_reason = null
     where i.id = p.id;

    -- after the tombstone, whose names would otherwise make new demographic keys
    delete from refuge.match_block b where b.individual_id = p.id;
    delete from refuge.match_profile m where m.individual_id = p.id;
    -- the case files of erased people alone that this erasure completes
    -- (rewritten by refuge.erasure_arrived, once the erasure is recorded)
    files := array(select x from unnest(refuge.member_cases(p.id)) x where refuge.case_file_erased(x, p.id));
    if cardinality(files) > 0 then
        removed := removed || jsonb_build_object('case_files', cardinality(files));
        -- a file audited before its values were sealed (before 0.15.0, or
        -- without the vault key) keeps that history in clear: said, as for
        -- the person's own rows (the case's own audit rows tell)
        in_clear := in_clear
            or exists (select 1 from refuge.audit_log a
                        where a.table_name = 'process_case' and a.row_id = any (files)
                          and not coalesce(a.new_data ? '$subject', a.old_data ? '$subject', false));
    end if;

    insert into refuge.erasure (individual_id, operation_id, reason, removed, audit_in_clear, erased_by)
    values (p.id, p.operation_id, why, removed, in_clear, refuge.caller());

    return jsonb_build_object('individual_id', p.id, 'number', p.number, 'erased_at', now(), 'removed', removed,
                              'audit_in_clear', in_clear, 'tombstone', true, 'reenrolment_blocked', false);
end
$$;

-- sql/86_erasure.sql: erasure_arrived
create or replace function refuge.erasure_arrived() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.destroy_person_key(NEW.individual_id);
    -- arrived from the node that erased: the person's rows this node owns go
    -- too, and its demographic keys of them
    if NEW.sync_owner <> refuge.local_node() then
        perform refuge.erase_rows(NEW.individual_id, true);
        delete from refuge.match_block b where b.individual_id = NEW.individual_id;
        delete from refuge.match_profile m where m.individual_id = NEW.individual_id;
    end if;
    -- what readers of the person's records wrote as their purpose can name
    -- them (a demographic search logs the names searched): this node's
    -- rows keep who, when and what kind, not why
    update refuge.sensitive_read r set purpose = '(erased with the record)'
     where r.individual_id = NEW.individual_id and r.sync_owner = refuge.local_node()
       and r.purpose <> '(erased with the record)';
    update refuge.vault_access r set purpose = '(erased with the record)'
     where r.individual_id = NEW.individual_id and r.sync_owner = refuge.local_node()
       and r.purpose <> '(erased with the record)';
    -- the case files of erased people alone: their text and this node's
    -- keys of them
    perform refuge.erase_case_files(NEW.individual_id);
    return NEW;
end
$$;

-- functions/60_cases.sql: case_for_update
create or replace function refuge.case_for_update(p_case uuid, p_action text, p_lock boolean default true)
    returns refuge.process_case
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
begin
    if p_case is null then
        perform refuge.raise_field('22004', 'case_id', 'is required');
    end if;
    select * into c from refuge.process_case p where p.id = p_case;
    if not found or not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'case_id', 'not found in your operations');
    end if;
    if p_lock then
        select * into c from refuge.process_case p where p.id = p_case for update;
    end if;
    -- the file of erased people alone takes nothing new (its text was erased)
    if p_lock and c.closed and refuge.case_file_erased(c.id) then
        perform refuge.raise_field('55000', 'case_id',
            format('case %s is the file of erased records: it takes no new entry', c.number));
    end if;
    return c;
end
$$;

-- functions/30_registration.sql: request_status_change
create or replace function refuge.request_status_change(individual_id uuid, status text default null,
                                             population_type text default null, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cur refuge.individual;
    new_status text;
    new_type text;
    new_id uuid;
begin
    cur := refuge.individual_for_update(request_status_change.individual_id, 'refuge_registration', 'request_status_change');
    new_status := coalesce(status, cur.status);
    new_type := coalesce(population_type, cur.population_type);
    if not refuge.code_exists('individual_status', new_status) then
        perform refuge.raise_field('23503', 'status', format('unknown code "%s"', left(new_status, 40)));
    end if;
    if not refuge.code_exists('population_type', new_type) then
        perform refuge.raise_field('23503', 'population_type', format('unknown code "%s"', left(new_type, 40)));
    end if;
    if new_status = cur.status and new_type = cur.population_type then
        perform refuge.raise_field('22023', 'status', format('%s is already %s, %s', cur.number, cur.status, cur.population_type));
    end if;
    if new_status = 'ERASED' and cur.status <> 'ERASED' then
        perform refuge.raise_field('42501', 'status', 'ERASED is set by refuge.erase_individual only (the person''s request, with their key destroyed)');
    end if;
    if cur.status = 'DUPLICATE' or new_status = 'DUPLICATE' then
        perform refuge.raise_field('42501', 'status',
            format('%s: a record closed as a duplicate changes only through adjudication (refuge.adjudicate)', cur.number));
    end if;
    perform refuge.require_text(reason, 'reason');
    insert into refuge.status_change (individual_id, operation_id, site_id, from_status, to_status, from_population_type,
                                      to_population_type, reason, requested_by)
    values (cur.id, cur.operation_id, cur.site_id, cur.status, new_status, cur.population_type, new_type,
            left(btrim(reason), 2000), refuge.caller())
    returning id into new_id;
    return jsonb_build_object('change_id', new_id, 'number', cur.number, 'status', 'requested',
                              'from', jsonb_build_object('status', cur.status, 'population_type', cur.population_type),
                              'to', jsonb_build_object('status', new_status, 'population_type', new_type));
exception when unique_violation then
    perform refuge.raise_field('23505', 'individual_id', format('%s already has a status change awaiting a decision', cur.number));
end
$$;

-- functions/65_lifecycle.sql: set_individual_status
create or replace function refuge.set_individual_status(p_ind refuge.individual, p_status text, p_type text, p_reason text,
                                             p_source text, p_source_id uuid, p_approved_by name,
                                             p_effective date default null, p_legal_basis text default null,
                                             p_recognised_by text default null, p_actor name default null)
    returns boolean
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    new_status text := coalesce(p_status, p_ind.status);
    new_type text := coalesce(p_type, p_ind.population_type);
    eff date := least(coalesce(p_effective, current_date), current_date);
begin
    if p_ind.status = 'DUPLICATE' and p_source <> 'ADJUDICATION' then
        return false;
    end if;
    -- (erasure writes the tombstone itself: no other path makes one)
    if new_status = 'ERASED' and p_ind.status <> 'ERASED' then
        perform refuge.raise_field('42501', 'status', 'ERASED is set by refuge.erase_individual only');
    end if;
    if p_ind.status in ('CLOSED', 'DECEASED') and p_source not in ('STATUS_CHANGE', 'ADJUDICATION') then
        return false;
    end if;
    if new_status = p_ind.status and new_type = p_ind.population_type and p_legal_basis is null then
        return false;
    end if;
    perform refuge.set_status_context(jsonb_strip_nulls(jsonb_build_object(
        'source', p_source, 'source_id', p_source_id, 'reason', p_reason, 'approved_by', p_approved_by,
        'effective', eff, 'legal_basis', p_legal_basis, 'recognised_by', p_recognised_by, 'actor', p_actor))::text);
    update refuge.individual i
       set status = new_status,
           status_date = case when new_status <> p_ind.status then eff else i.status_date end,
           status_reason = case when new_status <> p_ind.status then left(p_reason, 500) else i.status_reason end,
           population_type = new_type,
           population_type_date = case when new_type <> p_ind.population_type then eff else i.population_type_date end
     where i.id = p_ind.id;
    perform refuge.set_status_context(null);
    return true;
end
$$;

-- functions/65_lifecycle.sql: set_status_rule
create or replace function refuge.set_status_rule(operation text, module text, action text, when_data jsonb,
                                       to_status text, to_population_type text, reason text)
    returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
#variable_conflict use_column
declare
    op uuid;
    new_id integer;
begin
    perform refuge.authorize('refuge_admin', 'set_status_rule');
    select o.id into op from refuge.operation o where o.code = set_status_rule.operation;
    perform refuge.require_visible(op is not null and refuge.in_scope(op), 'operation');
    if not exists (select 1 from refuge.workflow_transition w where w.module = set_status_rule.module
                                                                and w.action = set_status_rule.action) then
        perform refuge.raise_field('22023', 'action', format('"%s" is not a step of %s cases',
                                   coalesce(left(set_status_rule.action, 40), 'null'), coalesce(left(set_status_rule.module, 40), 'null')));
    end if;
    if when_data is null or jsonb_typeof(when_data) <> 'object'
       or exists (select 1 from jsonb_each(when_data) w where jsonb_typeof(w.value) <> 'array') then
        perform refuge.raise_field('22023', 'when_data', 'expected an object of key -> array of accepted values');
    end if;
    perform refuge.require_text(reason, 'reason');
    if to_status is null and to_population_type is null then
        perform refuge.raise_field('22004', 'to_status', 'a rule changes the status, the population type or both');
    end if;
    if to_status in ('ACTIVE', 'DUPLICATE', 'ERASED') then
        perform refuge.raise_field('22023', 'to_status', format('%s is not set by a case decision', to_status));
    end if;
    insert into refuge.status_rule (operation_id, module, action, when_data, to_status, to_population_type, reason)
    values (op, set_status_rule.module, set_status_rule.action, when_data, to_status, to_population_type,
            left(btrim(reason), 200))
    on conflict (coalesce(operation_id, '00000000-0000-0000-0000-000000000000'::uuid), module, action, when_data)
    do update set to_status = excluded.to_status, to_population_type = excluded.to_population_type,
                  reason = excluded.reason
    returning id into new_id;
    return new_id;
end
$$;

-- functions/45_data_protection.sql: subject_access_pdf
create or replace function refuge.subject_access_pdf(individual_id uuid) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    j jsonb := refuge.subject_access(subject_access_pdf.individual_id);
    -- entries printed per section (each takes a line or a few)
    max_entries constant integer := 250;
    lines text[];
    k text;
    v jsonb;
    e jsonb;
begin
    lines := array['TITLE' || chr(9) || 'Personal data held by UNHCR in Refuge',
                   'SUB' || chr(9) || format('%s - requested %s by %s', j -> 'request' ->> 'number',
                                             to_char((j -> 'request' ->> 'requested_at')::timestamptz, 'YYYY-MM-DD'),
                                             j -> 'request' ->> 'requested_by')];
    for k, v in select x.key, x.value from jsonb_each(j) with ordinality x(key, value, ord)
                 where x.key <> 'request' order by x.ord loop
        lines := lines || ('SECTION' || chr(9) || initcap(replace(k, '_', ' ')));
        if jsonb_typeof(v) = 'object' then
            lines := lines || array(select 'FIELD' || chr(9) || replace(f.key, '_', ' ') || chr(9)
                                           || left(regexp_replace(case when jsonb_typeof(f.value) = 'string' then f.value #>> '{}'
                                                                       else f.value::text end, '[\t\r\n]', ' ', 'g'), 900)
                                      from jsonb_each(v) f);
        elsif jsonb_typeof(v) = 'array' and jsonb_array_length(v) = 0 then
            lines := lines || ('TEXT' || chr(9) || 'none');
        elsif jsonb_typeof(v) = 'array' then
            -- a long history (a person read in thousands of searches) would
            -- outgrow the document: the most recent entries, the counts by
            -- kind, and every entry in the electronic copy
            if jsonb_array_length(v) > max_entries then
                lines := lines || ('TEXT' || chr(9) || format(
                    '%s entries; the %s most recent are printed here, and the electronic copy of this report (refuge.subject_access) lists every one.',
                    jsonb_array_length(v), max_entries));
                lines := lines || array(select 'TEXT' || chr(9) || format('%s: %s', coalesce(x ->> 'kind', 'entries'), count(*))
                                          from jsonb_array_elements(v) x
                                         group by x ->> 'kind' order by count(*) desc, x ->> 'kind' limit 50);
                v := (select jsonb_agg(x.e order by x.i) from jsonb_array_elements(v) with ordinality x(e, i)
                       where x.i > jsonb_array_length(v) - max_entries);
            end if;
            for e in select jsonb_array_elements(v) loop
                lines := lines || ('TEXT' || chr(9) || left(regexp_replace(
                    (select string_agg(replace(f.key, '_', ' ') || ': ' || case when jsonb_typeof(f.value) = 'string'
                                                                            then f.value #>> '{}' else f.value::text end, '; ')
                       from jsonb_each(case when jsonb_typeof(e) = 'object' then e else jsonb_build_object('value', e) end) f),
                    '[\t\r\n]', ' ', 'g'), 900));
            end loop;
        else
            lines := lines || ('TEXT' || chr(9) || 'none');
        end if;
    end loop;
    return refuge.render_pdf('Personal data held by UNHCR', lines, '{}');
end
$$;

-- functions/45_data_protection.sql: record_consent
create or replace function refuge.record_consent(individual_id uuid, purpose text, method text default 'ORAL',
                                      given_by text default 'SELF', guardian_id uuid default null,
                                      notice_version text default null, valid_until date default null,
                                      agreement text default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    g refuge.individual;
    pur refuge.processing_purpose;
    a refuge.sharing_agreement;
    new_id uuid;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'record_consent');
    p := refuge.person_in_reach(record_consent.individual_id, 'individual_id');
    pur := refuge.purpose_row(record_consent.purpose, 'purpose');
    if not refuge.purpose_in_reach(pur.code, p) then
        raise exception using errcode = '42501',
            message = format('record_consent: consents to %s are recorded by the staff of that module', pur.code);
    end if;
    if method is null or method not in ('ORAL', 'WRITTEN', 'THUMBPRINT', 'ELECTRONIC') then
        perform refuge.raise_field('22023', 'method', format('"%s" is not ORAL, WRITTEN, THUMBPRINT or ELECTRONIC', refuge.excerpt(method)));
    end if;
    if given_by is null or given_by not in ('SELF', 'PARENT', 'GUARDIAN', 'CAREGIVER') then
        perform refuge.raise_field('22023', 'given_by', format('"%s" is not SELF, PARENT, GUARDIAN or CAREGIVER', refuge.excerpt(given_by)));
    end if;
    if given_by in ('PARENT', 'GUARDIAN') and guardian_id is null then
        perform refuge.raise_field('22004', 'guardian_id', format('is required when consent is given by a %s', lower(given_by)));
    end if;
    if given_by = 'SELF' and guardian_id is not null then
        perform refuge.raise_field('22023', 'guardian_id', 'must be empty when the person consents themselves');
    end if;
    if guardian_id is not null then
        g := refuge.person_in_reach(guardian_id, 'guardian_id');
        if g.id = p.id then
            perform refuge.raise_field('22023', 'guardian_id', 'is the person themselves');
        end if;
        -- plausible: a current record, older than the person (a parent by
        -- 12 years at least), 15 or older (the head of a child-headed
        -- household consents for younger siblings)
        if g.status in ('CLOSED', 'DECEASED', 'DUPLICATE', 'ERASED') then
            perform refuge.raise_field('55000', 'guardian_id',
                format('%s is %s: they cannot consent for another person', g.number, lower(g.status)));
        end if;
        if g.date_of_birth is not null and g.date_of_birth > current_date - interval '15 years' then
            perform refuge.raise_field('22023', 'guardian_id',
                format('%s is under 15: too young to consent for another person', g.number));
        end if;
        if g.date_of_birth is not null and p.date_of_birth is not null then
            if g.date_of_birth >= p.date_of_birth then
                perform refuge.raise_field('22023', 'guardian_id', format('%s is not older than %s', g.number, p.number));
            end if;
            if given_by = 'PARENT' and g.date_of_birth > p.date_of_birth - interval '12 years' then
                perform refuge.raise_field('22023', 'guardian_id',
                    format('%s is less than 12 years older than %s: not plausibly a parent', g.number, p.number));
            end if;
        end if;
    end if;
    -- an adult consents themselves (or a guardian appointed for them, or a
    -- caregiver for one who cannot): not their parent
    if given_by = 'PARENT' and p.date_of_birth is not null and p.date_of_birth <= current_date - interval '18 years' then
        perform refuge.raise_field('22023', 'given_by',
            format('%s is an adult: a parent does not consent for them (GUARDIAN for an adult under guardianship, CAREGIVER for one who cannot consent)', p.number));
    end if;
    if valid_until is not null and valid_until < current_date then
        perform refuge.raise_field('22008', 'valid_until', format('%s is in the past', refuge.iso(valid_until)));
    end if;
    if notice_version is not null and (btrim(notice_version) = '' or length(notice_version) > 100) then
        perform refuge.raise_field('22023', 'notice_version', 'must be 1 to 100 characters');
    end if;
    if agreement is not null then
        select * into a from refuge.sharing_agreement x where x.code = agreement;
        if not found then
            perform refuge.raise_field('23503', 'agreement', format('unknown agreement "%s"', refuge.excerpt(agreement)));
        end if;
        if not pur.code = any (a.purposes) then
            perform refuge.raise_field('22023', 'agreement', format('%s does not cover purpose %s', a.code, pur.code));
        end if;
    end if;
    insert into refuge.consent (individual_id, purpose, agreement_id, given_by, guardian_id, method, notice_version,
                                valid_until, recorded_by)
    values (p.id, pur.code, a.id, given_by, guardian_id, method, btrim(notice_version), valid_until, refuge.caller())
    returning id into new_id;
    if notice_version is not null then
        insert into refuge.information_notice (individual_id, purpose, notice_version, given_by)
        values (p.id, pur.code, btrim(notice_version), refuge.caller());
    end if;
    return new_id;
end
$$;

-- functions/43_demographic.sql: demographic_search_many
create or replace function refuge.demographic_search_many(p_ids uuid[], p_min_score double precision, p_limit integer,
                                               p_weights double precision[] default null)
    returns table (individual_id uuid, candidate_id uuid, score double precision, levels integer[])
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    -- (PL/pgSQL keeps the plan of this long statement: an SQL function would plan it on every call)
    set plan_cache_mode = force_generic_plan
as $$
begin
    return query
    with wv as materialized (
        select coalesce(p_weights, refuge.match_weight_vector()) as w),
    probe as materialized (
        select pi.id, pi as ind, pp as profile, g.grp, g.has_co, g.has_doc, g.has_phone,
               (case when g.has_co then (select max(wv.w[50 + l]) from generate_series(1, 10) l) else 0 end
                + case when g.has_doc then (select max(wv.w[60 + l]) from generate_series(1, 10) l) else 0 end
                + case when g.has_phone then (select max(wv.w[70 + l]) from generate_series(1, 10) l) else 0 end) as late_max
          from unnest(p_ids) x(id)
          join refuge.individual pi on pi.id = x.id
          join refuge.match_profile pp on pp.individual_id = x.id
         cross join lateral (select y.grp,
                                    exists (select 1 from refuge.group_membership m
                                             where m.group_id = y.grp and m.valid_to is null and m.individual_id <> pi.id)
                                        as has_co,
                                    exists (select 1 from refuge.document d where d.individual_id = pi.id) as has_doc,
                                    exists (select 1 from refuge.individual_contact c where c.individual_id = pi.id)
                                        as has_phone
                               from (select refuge.current_group(pi.id) as grp) y) g
         cross join wv
         where cardinality(pp.names) > 0),
    cand as materialized (
        select pr.id as probe, b.candidate_id as id, b.levels as lv, b.ord
          from probe pr
         cross join lateral refuge.demographic_compared(pr.profile, pr.ind,
                                                        refuge.birth_year_window((pr.ind).dob_precision), 500)
                            with ordinality b(candidate_id, levels, ord)),
    -- (ties, many namesakes alike, in the order of the blocking: those
    -- sharing most keys, a household's among them, are compared further)
    ranked as materialized (
        select c.probe, c.id, c.lv,
               row_number() over (partition by c.probe order by refuge.match_score(c.lv, wv.w) desc, c.ord) as rn
          from cand c join probe pr on pr.id = c.probe cross join wv
         where refuge.match_score(c.lv, wv.w) + pr.late_max >= p_min_score),
    -- (the household, document and phone comparisons only where the probe
    -- has co-members, documents, contacts: otherwise they are 0 anyway)
    late as materialized (
        select r.probe, r.id, cg.grp,
               r.lv[1:5] || array[case when pr.has_co then refuge.family_level(r.probe, pr.grp, r.id, cg.grp) else 0 end,
                                  case when pr.has_doc then refuge.document_level(r.probe, r.id) else 0 end,
                                  case when pr.has_phone then refuge.phone_level(r.probe, r.id) else 0 end] || r.lv[9:9] as lv
          from ranked r join probe pr on pr.id = r.probe
         cross join lateral (select refuge.current_group(r.id) as grp offset 0) cg
         where r.rn <= greatest(p_limit, 1) + 10),
    scored as (
        select l.probe, l.id, refuge.match_score(l.lv, wv.w) as s, l.lv,
               -- one person is at most one member of a household: the best
               -- of a household's members explains the others (siblings of
               -- a household registered twice)
               row_number() over (partition by l.probe, coalesce(l.grp, l.id)
                                  order by refuge.match_score(l.lv, wv.w) desc, l.id) as in_household
          from late l cross join wv
         where refuge.match_score(l.lv, wv.w) >= p_min_score),
    kept as (
        select sc.probe, sc.id, sc.s, sc.lv, row_number() over (partition by sc.probe order by sc.s desc, sc.id) as rn
          from scored sc where sc.in_household = 1)
    select k.probe, k.id, k.s, k.lv from kept k where k.rn <= p_limit order by k.probe, k.s desc, k.id;
end
$$;

-- functions/43_demographic.sql: demographic_blocked
create or replace function refuge.demographic_blocked(p refuge.match_profile, p_window integer, p_cap integer)
    returns table (candidate_id uuid, namesakes integer)
    -- (a few dozen people: the planner must look them up by index, never scan everyone)
    rows 50
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cleared uuid[] := refuge.demographic_cleared_of(p.individual_id);
begin
    return query
    select b.candidate_id, b.namesakes
      from refuge.demographic_block_scan(p.keys || p.household_keys, p.birth_year, p_window, p_cap, p.individual_id, 80) b
     where b.candidate_id <> all (cleared)
     order by b.shared desc, b.gap, b.candidate_id;
end
$$;

-- functions/43_demographic.sql: demographic_compared
create or replace function refuge.demographic_compared(p refuge.match_profile, pi refuge.individual, p_window integer, p_cap integer)
    returns table (candidate_id uuid, levels integer[])
    rows 50
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cleared uuid[] := refuge.demographic_cleared_of(p.individual_id);
begin
    -- the blocks of the household too (they never count as namesakes)
    p.keys := p.keys || p.household_keys;
    -- (in the order of the blocking: the callers rank ties by it)
    return query
    select b.candidate_id, b.levels
      from refuge.demographic_compare_blocked(p, pi, p_window, p_cap, 80) b
     where b.candidate_id <> all (cleared);
end
$$;

-- functions/43_demographic.sql: refresh_match_facts (new)
create function refuge.refresh_match_facts(ids uuid[]) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    -- the owner's policies apply even where a superuser turned row security off
    set row_security = on
as $$
begin
    if cardinality(ids) = 0 then
        return;
    end if;
    update refuge.match_profile p
       set dob = i.date_of_birth, dob_precision = i.dob_precision, sex = i.sex, birth_country = i.birth_country,
           site = i.site_id, operation = i.operation_id, registered_on = i.registration_date, record_status = i.status
      from refuge.individual i
     where i.id = p.individual_id and p.individual_id = any (ids);
end
$$;
comment on function refuge.refresh_match_facts(uuid[]) is
    'internal: copy the facts the demographic search compares from these people''s records into their profiles';

-- functions/46_erasure.sql: member_cases (new)
create function refuge.member_cases(p_individual uuid) returns uuid[]
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return array(select m.case_id from refuge.case_member m where m.individual_id = p_individual
                 union
                 select c.id from refuge.process_case c where c.principal_id = p_individual);
comment on function refuge.member_cases(uuid) is
    'internal: the cases a person is a member or the principal of';

-- functions/46_erasure.sql: case_file_erased (new)
create function refuge.case_file_erased(p_case uuid, p_erasing uuid default null) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return exists (select 1 from refuge.process_case c
                    where c.id = p_case and c.closed
                      and (c.principal_id = p_erasing
                           or exists (select 1 from refuge.erasure e where e.individual_id = c.principal_id)))
       and not exists (select 1 from refuge.case_member m
                        where m.case_id = p_case and m.individual_id is distinct from p_erasing
                          and not exists (select 1 from refuge.erasure e where e.individual_id = m.individual_id));
comment on function refuge.case_file_erased(uuid, uuid) is
    'internal: is the case closed, its principal and every member erased (its text and key go)?';

-- functions/46_erasure.sql: case_codes_only (new)
create function refuge.case_codes_only(p_module text, data jsonb) returns jsonb
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return case when data is null then null when jsonb_typeof(data) <> 'object' then '{}'::jsonb else
        coalesce((select jsonb_object_agg(e.key, e.value) from jsonb_each(data) e
                   where jsonb_typeof(e.value) in ('number', 'boolean')
                      or exists (select 1
                                   from (select t.fields from refuge.workflow_transition t where t.module = p_module
                                         union all
                                         select m.open_fields from refuge.case_module m where m.code = p_module) f(spec),
                                        jsonb_each(f.spec) s
                                  where rtrim(s.key, '?') = e.key
                                    and ((jsonb_typeof(s.value) = 'array' and s.value @> jsonb_build_array(e.value))
                                         or s.value #>> '{}' in ('date', 'integer', 'country', 'individual', 'uuid')))
                      or exists (select 1 from refuge.workflow_transition t
                                  where t.module = p_module and t.sets ? e.key)),
                 '{}'::jsonb) end;
comment on function refuge.case_codes_only(text, jsonb) is
    'internal: a case''s data without its free text (the module''s code, date, integer, country and id fields stay)';

-- functions/46_erasure.sql: erase_case_files (new)
create function refuge.erase_case_files(p_individual uuid) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cases uuid[];
    c uuid;
    removed jsonb := '{}';
    n bigint;
    total bigint := 0;
    marker constant text := '(erased with the record)';
begin
    -- the person's cases, locked in one order: two members erased at once
    -- each see the other's erasure once the first commits
    cases := refuge.member_cases(p_individual);
    perform 1 from refuge.process_case pc where pc.id = any (cases) order by pc.id for update;
    cases := array(select x from unnest(cases) x where refuge.case_file_erased(x));
    if cardinality(cases) = 0 then
        return removed;
    end if;

    -- a step awaiting approval is rejected (the file takes no new entry)
    update refuge.case_approval x
       set status = 'REJECTED', decided_by = refuge.caller(), decided_at = now()
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node() and x.status = 'REQUESTED';

    update refuge.process_case x set data = refuge.case_codes_only(x.module, x.data)
     where x.id = any (cases) and x.sync_owner = refuge.local_node()
       and x.data <> refuge.case_codes_only(x.module, x.data);
    get diagnostics n = row_count; total := total + n;
    update refuge.case_note x set body = marker, sealed = null, confidential = false
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node() and x.body is distinct from marker;
    get diagnostics n = row_count; total := total + n;
    update refuge.case_document x
       set title = marker, content = ''::bytea, sealed = null, confidential = false, size_bytes = 0,
           sha256 = sha256(''::bytea)
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node() and x.title is distinct from marker;
    get diagnostics n = row_count; total := total + n;
    update refuge.case_event x
       set reason = case when x.reason is not null then marker end, data = refuge.case_codes_only(pc.module, x.data)
      from refuge.process_case pc
     where pc.id = x.case_id and x.case_id = any (cases) and x.sync_owner = refuge.local_node()
       and (x.reason <> marker or x.data <> refuge.case_codes_only(pc.module, x.data));
    get diagnostics n = row_count; total := total + n;
    update refuge.case_approval x
       set reason = case when x.reason is not null then marker end,
           decision_comment = case when x.decision_comment is not null then marker end,
           data = refuge.case_codes_only(pc.module, x.data)
      from refuge.process_case pc
     where pc.id = x.case_id and x.case_id = any (cases) and x.sync_owner = refuge.local_node()
       and (x.reason <> marker or x.decision_comment <> marker or x.data <> refuge.case_codes_only(pc.module, x.data));
    get diagnostics n = row_count; total := total + n;
    update refuge.case_alert x set message = marker
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node() and x.message <> marker;
    get diagnostics n = row_count; total := total + n;
    update refuge.case_link x set note = null
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node() and x.note is not null;
    get diagnostics n = row_count; total := total + n;
    update refuge.case_referral x
       set purpose = marker, end_reason = case when x.end_reason is not null then marker end
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node()
       and (x.purpose <> marker or x.end_reason <> marker);
    get diagnostics n = row_count; total := total + n;
    update refuge.case_transfer x
       set reason = marker, decision_reason = case when x.decision_reason is not null then marker end
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node()
       and (x.reason <> marker or x.decision_reason <> marker);
    get diagnostics n = row_count; total := total + n;
    -- (the narrative is sealed again, which needs the vault key: a node
    -- without it, against the README's advice, must still apply the erasure)
    if refuge.vault_key_loaded() then
        update refuge.gbv_incident g
           set sealed = refuge.vault_seal(convert_to(jsonb_build_object('narrative_erased_at', now())::text, 'UTF8'),
                                          'gbv_incident:' || g.case_id),
               narrative_erased_at = now()
         where g.case_id = any (cases) and g.sync_owner = refuge.local_node() and g.narrative_erased_at is null;
        get diagnostics n = row_count; total := total + n;
    end if;
    -- what readers gave as the purpose of reading the case
    update refuge.sensitive_read r set purpose = marker
     where r.case_id = any (cases) and r.sync_owner = refuge.local_node() and r.purpose <> marker;
    get diagnostics n = row_count; total := total + n;
    -- changes to the file's rows sent to or in conflict with other nodes
    -- keep their values: this node's go (as refuge.erase_rows does)
    delete from refuge.sync_change x
     where x.sync_owner = refuge.local_node()
       and (x.row_key ->> 'id' = any (cases::text[]) or x.row_key ->> 'case_id' = any (cases::text[])
            or x.new_values ->> 'case_id' = any (cases::text[]) or x.old_values ->> 'case_id' = any (cases::text[]));
    delete from refuge.sync_conflict x
     where x.sync_owner = refuge.local_node()
       and (x.row_key ->> 'id' = any (cases::text[]) or x.row_key ->> 'case_id' = any (cases::text[])
            or x.kept_values ->> 'case_id' = any (cases::text[]) or x.lost_values ->> 'case_id' = any (cases::text[])
            or x.base_values ->> 'case_id' = any (cases::text[]));

    foreach c in array cases loop
        perform refuge.destroy_person_key(c);
    end loop;
    return jsonb_build_object('case_files', cardinality(cases), 'case_file_rows', total);
end
$$;
comment on function refuge.erase_case_files(uuid) is
    'internal: the text of the case files of erased people alone that the person was a member of goes from this node''s rows, and the cases'' keys with it';

-- functions/43_demographic.sql: household_keyed (new)
create function refuge.household_keyed(group_id uuid) returns boolean
    language sql stable
    return (select count(*) from (select 1 from refuge.group_membership c
                                   where c.group_id = household_keyed.group_id and c.valid_to is null limit 31) z) <= 30;
comment on function refuge.household_keyed(uuid) is
    'internal: whether a household has household blocking keys (30 current members at most)';

-- functions/43_demographic.sql: household_keys_of (new)
create function refuge.household_keys_of(ids uuid[]) returns table (individual_id uuid, keys text[])
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return query
    with person as (
        select x.id, m.group_id
          from unnest(ids) x(id)
          left join refuge.group_membership m on m.individual_id = x.id and m.valid_to is null
         where exists (select 1 from refuge.match_profile p where p.individual_id = x.id)),
    household_group as materialized (
        select g.group_id
          from (select distinct person.group_id from person where person.group_id is not null) g
         where refuge.household_keyed(g.group_id)),
    -- each member's given-name key, once per household
    member as materialized (
        select o.group_id, o.individual_id,
               (refuge.name_block_keys(array[split_part(q.names[1], ' ', 1)]))[1] as k
          from refuge.group_membership o
          join refuge.match_profile q on q.individual_id = o.individual_id
         where o.group_id in (select household_group.group_id from household_group) and o.valid_to is null),
    household as (
        select p.id, max(m.k) filter (where m.individual_id = p.id) as own,
               coalesce(array_agg(distinct m.k order by m.k) filter (where m.individual_id <> p.id and m.k is not null),
                        '{}') as ks
          from person p left join member m on m.group_id = p.group_id
         group by p.id)
    select h.id,
           -- (the person's own name with the others' first, then the chain)
           array(select hk.key
                   from (select 'h' || h.own || '|' || c.k as key, 1 as kind
                           from unnest(h.ks) c(k)
                         union all
                         select 'h' || h.ks[i] || '|' || h.ks[i + 1], 2
                           from generate_series(1, cardinality(h.ks) - 1) i) hk
                  where hk.key is not null
                  group by hk.key order by min(hk.kind), hk.key limit 24)
      from household h;
end
$$;
comment on function refuge.household_keys_of(uuid[]) is
    'internal: the household blocking keys of these people (the given name''s key with each other current member''s)';

-- functions/43_demographic.sql: refresh_household_keys (new)
create function refuge.refresh_household_keys(ids uuid[], groups uuid[] default '{}') returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    -- the owner's policies apply even where a superuser turned row security off
    set row_security = on
as $$
declare
    affected uuid[];
    small uuid[];
    people uuid[];
    fresh jsonb;
begin
    if coalesce(cardinality(ids), 0) = 0 and coalesce(cardinality(groups), 0) = 0 then
        return;
    end if;
    affected := array(select x from unnest(groups) x where x is not null
                      union
                      select m.group_id from refuge.group_membership m
                       where m.individual_id = any (ids) and m.valid_to is null);
    -- one change to a household's keys at a time: of two sessions changing
    -- one household (a member added while another is erased or renamed),
    -- the second computes the keys once the first has committed (the
    -- statements below take their snapshots after the lock)
    perform 1 from refuge.registration_group g where g.id = any (affected) order by g.id for no key update;
    small := array(select x from unnest(affected) x where refuge.household_keyed(x));
    people := array(select x from unnest(ids) x where x is not null
                    union
                    select m.individual_id from refuge.group_membership m
                     where m.group_id = any (small) and m.valid_to is null
                    union
                    select m.individual_id from refuge.group_membership m
                      join refuge.match_profile p on p.individual_id = m.individual_id
                     where m.group_id = any (affected) and m.valid_to is null and cardinality(p.household_keys) > 0);
    -- the keys where they changed
    select jsonb_object_agg(h.individual_id, to_jsonb(h.keys)) into fresh
      from refuge.household_keys_of(people) h
      join refuge.match_profile p on p.individual_id = h.individual_id
     where p.household_keys is distinct from h.keys;
    if fresh is null then
        return;
    end if;
    -- the blocks of the keys gone, then those of the keys new
    delete from refuge.match_block b
     using (select p.individual_id, p.birth_year, k.key
              from jsonb_each(fresh) f
              join refuge.match_profile p on p.individual_id = f.key::uuid
             cross join unnest(p.household_keys) k(key)
             where not f.value ? k.key) o
     where b.key = o.key and b.birth_year = o.birth_year and b.individual_id = o.individual_id;
    insert into refuge.match_block (key, birth_year, individual_id)
    select k.key, p.birth_year, p.individual_id
      from jsonb_each(fresh) f
      join refuge.match_profile p on p.individual_id = f.key::uuid
     cross join jsonb_array_elements_text(f.value) k(key)
     where k.key <> all (p.household_keys)
    on conflict do nothing;
    update refuge.match_profile p set household_keys = array(select jsonb_array_elements_text(f.value))
      from jsonb_each(fresh) f
     where p.individual_id = f.key::uuid;
end
$$;
comment on function refuge.refresh_household_keys(uuid[], uuid[]) is
    'internal: recompute the household blocking keys of these people and of those who live with them';

alter table refuge.gallery_shard owner to refuge_owner;
revoke all on table refuge.gallery_shard from public;
alter table refuge.gallery_shard enable row level security;
alter table refuge.gallery_shard force row level security;
create policy owner_all on refuge.gallery_shard for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.gallery_shard
    for each statement execute function refuge.refuse_truncate();
alter table refuge.gallery_shard enable always trigger no_truncate;

-- the shards' registry is audited (as sql/99_security.sql)
create trigger audit after insert or update or delete on refuge.gallery_shard
    for each row execute function refuge.audit_row('none');
create trigger audit_flush after insert or update or delete on refuge.gallery_shard
    for each statement execute function refuge.audit_flush();
alter table refuge.gallery_shard enable always trigger audit;
alter table refuge.gallery_shard enable always trigger audit_flush;
-- household keys follow group_membership (as functions/43_demographic.sql)
create trigger match_profile_insert after insert on refuge.group_membership
    referencing new table as new_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_update after update on refuge.group_membership
    referencing old table as old_rows new table as new_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_delete after delete on refuge.group_membership
    referencing old table as old_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_applied after insert or delete on refuge.group_membership
    for each row when (pg_catalog.current_setting('session_replication_role') = 'replica')
    execute function refuge.match_profile_sync();
create trigger match_profile_applied_update after update on refuge.group_membership
    for each row when (pg_catalog.current_setting('session_replication_role') = 'replica'
                       and (old.group_id, old.individual_id, old.valid_to) is distinct from
                           (new.group_id, new.individual_id, new.valid_to))
    execute function refuge.match_profile_sync();
alter table refuge.group_membership enable always trigger match_profile_insert;
alter table refuge.group_membership enable always trigger match_profile_update;
alter table refuge.group_membership enable always trigger match_profile_delete;
alter table refuge.group_membership enable always trigger match_profile_applied;
alter table refuge.group_membership enable always trigger match_profile_applied_update;
-- every household's keys, in batches
do $$
declare
    batch uuid[];
begin
    for batch in select array_agg(x.individual_id)
                   from (select p.individual_id, (row_number() over (order by p.individual_id) - 1) / 5000 as b
                           from refuge.match_profile p) x group by x.b loop
        perform refuge.refresh_household_keys(batch);
    end loop;
end
$$;


-- every function owned by refuge_owner, none executable by PUBLIC (as sql/99_security.sql)
do $$
declare
    r record;
begin
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and pg_catalog.pg_get_userbyid(p.proowner) <> 'refuge_owner'
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
end
$$;
revoke all on all functions in schema refuge, refuge_warehouse from public;
