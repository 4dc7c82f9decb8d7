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
