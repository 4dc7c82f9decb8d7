-- pg_dump keeps user data of extension tables only when they are registered
-- here.  Vocabularies: only the codes an operation added (shipped = false).

do $dump$
declare
    t record;
begin
    for t in select c.relname,
                    exists (select 1 from pg_catalog.pg_attribute a
                             where a.attrelid = c.oid and a.attname = 'shipped') as is_vocab
               from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind = 'r'
    loop
        perform pg_catalog.pg_extension_config_dump(format('refuge.%I', t.relname)::regclass,
            case when t.is_vocab then 'where not shipped' else '' end);
    end loop;
end
$dump$;

select pg_catalog.pg_extension_config_dump('refuge.audit_log_id_seq', '');
select pg_catalog.pg_extension_config_dump('refuge.number_seq', '');
