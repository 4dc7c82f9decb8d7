-- The catalogue of the refuge extension, one line per object and property,
-- for comparing two databases (a fresh install against one updated from
-- an old release: test/t/005_upgrade_catalog.pl).  Objects are named, never
-- numbered (no OIDs), so two databases give the same lines when their
-- objects are the same.
-- an ACL is compared as a set (its items' order is the order of the grants), a
-- default one (null) as the owner's privileges it stands for
with
ext as (select oid from pg_catalog.pg_extension where extname = 'refuge'),
nsp as (select n.oid, n.nspname from pg_catalog.pg_namespace n where n.nspname in ('refuge', 'refuge_warehouse')),
members as (select d.classid, d.objid from pg_catalog.pg_depend d, ext where d.refobjid = ext.oid and d.deptype = 'e'),
rel as (select c.oid, c.relname, c.relkind, n.nspname, c.relowner, c.relacl, c.relrowsecurity, c.relforcerowsecurity,
               c.relpersistence, c.relispartition
          from pg_catalog.pg_class c join nsp n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p', 'v', 'm', 'S', 'c', 'f')
           -- partitions of snapshots are data, not schema
           and not c.relispartition),
fn as (select n.nspname || '.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' as name, p.*
         from pg_catalog.pg_proc p join nsp n on n.oid = p.pronamespace)
select line from (
    -- functions: everything that defines them
    select 'function ' || f.name || ' ' || concat_ws(' ',
               'returns ' || pg_catalog.pg_get_function_result(f.oid),
               'args ' || pg_catalog.pg_get_function_arguments(f.oid),
               'lang ' || (select lanname from pg_catalog.pg_language l where l.oid = f.prolang),
               'kind ' || f.prokind::text, 'volatile ' || f.provolatile::text, 'strict ' || f.proisstrict,
               'secdef ' || f.prosecdef, 'leakproof ' || f.proleakproof, 'parallel ' || f.proparallel::text,
               'cost ' || f.procost, 'rows ' || f.prorows, 'config ' || coalesce(f.proconfig::text, '-'),
               'owner ' || f.proowner::regrole, 'acl ' || coalesce((select string_agg(a::text, ',' order by a::text) from unnest(coalesce(f.proacl, acldefault('f'::"char", f.proowner))) a), '-'),
               'bin ' || coalesce(f.probin, '-'),
               'src ' || md5(coalesce(pg_catalog.pg_get_function_sqlbody(f.oid), f.prosrc))) as line
      from fn f
    union all
    select 'function ' || f.name || ' comment ' || coalesce(pg_catalog.obj_description(f.oid, 'pg_proc'), '-') from fn f
    union all
    -- relations
    select 'relation ' || r.nspname || '.' || r.relname || ' ' || concat_ws(' ', 'kind ' || r.relkind::text,
               'owner ' || r.relowner::regrole, 'acl ' || coalesce((select string_agg(x::text, ',' order by x::text) from unnest(coalesce(r.relacl, acldefault((case when r.relkind = 'S' then 's' else 'r' end)::"char", r.relowner))) x), '-'),
               'rls ' || r.relrowsecurity || '/' || r.relforcerowsecurity, 'persistence ' || r.relpersistence::text,
               'partitioned by ' || coalesce(pg_catalog.pg_get_partkeydef(r.oid), '-'),
               'comment ' || coalesce(pg_catalog.obj_description(r.oid, 'pg_class'), '-'))
      from rel r
    union all
    select 'view ' || r.nspname || '.' || r.relname || ' ' || pg_catalog.pg_get_viewdef(r.oid) from rel r where r.relkind::text in ('v', 'm')
    union all
    select 'column ' || r.nspname || '.' || r.relname || '.' || a.attname || ' ' || concat_ws(' ',
               pg_catalog.format_type(a.atttypid, a.atttypmod), 'notnull ' || a.attnotnull,
               'default ' || coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '-'),
               'identity ' || a.attidentity::text, 'generated ' || a.attgenerated::text,
               'collation ' || coalesce((select collname from pg_catalog.pg_collation co where co.oid = a.attcollation), '-'),
               'acl ' || coalesce((select string_agg(x::text, ',' order by x::text) from unnest(a.attacl) x), '-'),
               'comment ' || coalesce(pg_catalog.col_description(r.oid, a.attnum), '-'))
      from rel r join pg_catalog.pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
      left join pg_catalog.pg_attrdef ad on ad.adrelid = r.oid and ad.adnum = a.attnum
    union all
    -- column order matters to SELECT * and COPY
    select 'columns ' || r.nspname || '.' || r.relname || ' ' ||
           (select string_agg(a.attname, ',' order by a.attnum) from pg_catalog.pg_attribute a
             where a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped)
      from rel r where r.relkind::text in ('r', 'p', 'v', 'm', 'c', 'f')
    union all
    select 'constraint ' || r.nspname || '.' || r.relname || '.' || c.conname || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
           || ' comment ' || coalesce(pg_catalog.obj_description(c.oid, 'pg_constraint'), '-')
      from rel r join pg_catalog.pg_constraint c on c.conrelid = r.oid
    union all
    select 'index ' || r.nspname || '.' || i.relname || ' ' ||
           regexp_replace(pg_catalog.pg_get_indexdef(i.oid), ' ON ONLY ', ' ON ')
      from rel r join pg_catalog.pg_index x on x.indrelid = r.oid join pg_catalog.pg_class i on i.oid = x.indexrelid
    union all
    select 'policy ' || p.schemaname || '.' || p.tablename || '.' || p.policyname || ' ' || concat_ws(' ',
               p.permissive, p.cmd, p.roles::text, 'using ' || coalesce(p.qual, '-'), 'check ' || coalesce(p.with_check, '-'))
      from pg_catalog.pg_policies p where p.schemaname in ('refuge', 'refuge_warehouse')
        and not exists (select 1 from pg_catalog.pg_class c join nsp n on n.oid = c.relnamespace
                         where n.nspname = p.schemaname and c.relname = p.tablename and c.relispartition)
    union all
    select 'trigger ' || r.nspname || '.' || r.relname || '.' || t.tgname || ' ' || t.tgenabled::text || ' ' ||
           pg_catalog.pg_get_triggerdef(t.oid)
      from rel r join pg_catalog.pg_trigger t on t.tgrelid = r.oid and not t.tgisinternal
    union all
    select 'sequence ' || r.nspname || '.' || r.relname || ' ' || concat_ws(' ', s.seqtypid::regtype, s.seqstart,
               s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle)
      from rel r join pg_catalog.pg_sequence s on s.seqrelid = r.oid
    union all
    -- types, operators, access methods, operator classes and families, casts
    select 'type ' || n.nspname || '.' || t.typname || ' ' || concat_ws(' ', t.typtype::text, t.typlen, t.typbyval, t.typalign::text,
               t.typstorage::text, t.typcategory::text, t.typinput::text, t.typoutput::text, t.typreceive::text, t.typsend::text,
               t.typmodin::text, t.typanalyze::text, 'acl ' || coalesce((select string_agg(x::text, ',' order by x::text) from unnest(coalesce(t.typacl, acldefault('T'::"char", t.typowner))) x), '-'),
               'comment ' || coalesce(pg_catalog.obj_description(t.oid, 'pg_type'), '-'))
      from pg_catalog.pg_type t join nsp n on n.oid = t.typnamespace
     where (t.typtype::text in ('b', 'd', 'e', 'r', 'm') or (t.typtype::text = 'c' and exists (select 1 from pg_catalog.pg_class c
                 where c.oid = t.typrelid and c.relkind = 'c')))
       -- (the array types of snapshot partitions are data)
       and not exists (select 1 from pg_catalog.pg_type e join pg_catalog.pg_class c on c.oid = e.typrelid
                        where e.oid = t.typelem and c.relispartition)
    union all
    select 'operator ' || n.nspname || '.' || o.oprname || '(' || coalesce(o.oprleft::regtype::text, 'none') || ',' ||
           coalesce(o.oprright::regtype::text, 'none') || ') ' || concat_ws(' ', o.oprcode::text, o.oprresult::regtype::text,
               coalesce(o.oprcom::regoperator::text, '-'), coalesce(o.oprnegate::regoperator::text, '-'),
               o.oprrest::text, o.oprjoin::text, o.oprcanmerge, o.oprcanhash,
               'comment ' || coalesce(pg_catalog.obj_description(o.oid, 'pg_operator'), '-'))
      from pg_catalog.pg_operator o join nsp n on n.oid = o.oprnamespace
    union all
    select 'access method ' || a.amname || ' ' || a.amtype::text || ' ' || a.amhandler::text || ' comment ' ||
           coalesce(pg_catalog.obj_description(a.oid, 'pg_am'), '-')
      from pg_catalog.pg_am a where a.oid in (select objid from members where classid = 'pg_catalog.pg_am'::regclass)
    union all
    select 'opclass ' || n.nspname || '.' || c.opcname || ' ' || concat_ws(' ',
               (select amname from pg_catalog.pg_am a where a.oid = c.opcmethod), c.opcintype::regtype::text,
               c.opcdefault, (select opfname from pg_catalog.pg_opfamily f where f.oid = c.opcfamily),
               coalesce(c.opckeytype::regtype::text, '-'))
      from pg_catalog.pg_opclass c join nsp n on n.oid = c.opcnamespace
    union all
    select 'opfamily member ' || f.opfname || ' ' || concat_ws(' ', 'operator', ao.amopstrategy, ao.amopopr::regoperator::text,
               ao.amoppurpose::text, coalesce(ao.amopsortfamily::text, '-'))
      from pg_catalog.pg_opfamily f join nsp n on n.oid = f.opfnamespace join pg_catalog.pg_amop ao on ao.amopfamily = f.oid
    union all
    select 'opfamily member ' || f.opfname || ' ' || concat_ws(' ', 'function', ap.amprocnum, ap.amproclefttype::regtype::text,
               ap.amprocrighttype::regtype::text, ap.amproc::regprocedure::text)
      from pg_catalog.pg_opfamily f join nsp n on n.oid = f.opfnamespace join pg_catalog.pg_amproc ap on ap.amprocfamily = f.oid
    union all
    select 'cast ' || c.castsource::regtype || ' as ' || c.casttarget::regtype || ' ' || concat_ws(' ',
               coalesce(c.castfunc::regprocedure::text, '-'), c.castcontext::text, c.castmethod::text)
      from pg_catalog.pg_cast c where c.oid in (select objid from members where classid = 'pg_catalog.pg_cast'::regclass)
    union all
    -- schemas and the extension's own settings
    select 'schema ' || n.nspname || ' owner ' || (select nspowner::regrole from pg_catalog.pg_namespace x where x.oid = n.oid)
           || ' acl ' || coalesce((select string_agg(y::text, ',' order by y::text) from pg_catalog.pg_namespace x, unnest(coalesce(x.nspacl, acldefault('n'::"char", x.nspowner))) y where x.oid = n.oid), '-')
           || ' comment ' || coalesce(pg_catalog.obj_description(n.oid, 'pg_namespace'), '-')
      from nsp n
    union all
    select 'extension config ' || coalesce((select string_agg(c::regclass::text || ' ' || coalesce(w, '-'), ', ' order by c::regclass::text)
                                             from pg_catalog.pg_extension e, unnest(e.extconfig, e.extcondition) u(c, w)
                                            where e.extname = 'refuge'), '-')
    union all
    -- extension membership: every object of the two schemas belongs to the extension
    select 'not a member ' || r.nspname || '.' || r.relname
      from rel r where r.relkind <> 'c'
       and not exists (select 1 from members m where m.classid = 'pg_catalog.pg_class'::regclass and m.objid = r.oid)
    union all
    select 'not a member ' || f.name
      from fn f where not exists (select 1 from members m where m.classid = 'pg_catalog.pg_proc'::regclass and m.objid = f.oid)
    union all
    -- shipped rows: vocabularies, workflows, code tables (tables the install fills;
    -- when a row was added, e.g. HQ's own node row, is the install's time)
    select 'rows ' || r.nspname || '.' || r.relname || ' ' || (xpath('//c/text()',
               query_to_xml(format('select count(*) || '' '' || coalesce(md5(string_agg((to_jsonb(t) - ''added_at'' - ''added_by'')::text, ''|'' order by (to_jsonb(t) - ''added_at'' - ''added_by'')::text)), ''-'') as c from %I.%I t',
                                   r.nspname, r.relname), false, false, '')))[1]::text
      from rel r where r.relkind::text = 'r'
) x
order by line;
