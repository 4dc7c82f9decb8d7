# Demo scene (sourced by demo.sh): a refugee asks for their data to be
# erased.  The administrator erases a person living alone, with no open
# case; every table of the database is then searched for their names,
# documents and phone numbers, and the audit chain verified.

log "erasure at the person's request: the record left as a tombstone, the audit trail's values of them unreadable, the chain intact"
psql -qX -P pager=off -v ON_ERROR_STOP=1 -d refuge_demo <<'SQL' || die "erasure scene failed"
create temp table erased_person as
select i.id, i.number, i.given_name, i.family_name, i.date_of_birth,
       array(select d.number from refuge.document d where d.individual_id = i.id) as documents,
       array(select c.value from refuge.individual_contact c where c.individual_id = i.id) as phones
  from refuge.individual i join refuge.operation o on o.id = i.operation_id and o.code = 'KEN'
 where i.status = 'ACTIVE' and i.given_name is not null and i.date_of_birth is not null
   and not exists (select 1 from refuge.case_member m where m.individual_id = i.id)
   and not exists (select 1 from refuge.fraud_case f where i.id in (f.individual_id, f.other_id))
   and not exists (select 1 from refuge.group_membership m join refuge.group_membership o on o.group_id = m.group_id
                    where m.individual_id = i.id and m.valid_to is null and o.valid_to is null and o.individual_id <> i.id)
 order by i.number limit 1;
grant select on erased_person to admin;
-- the administrator acts as Kenya's data protection focal point
select count(refuge.assign_staff('admin', 'KEN', null, 'Data protection focal point, Kenya')) as assigned
 where not exists (select 1 from refuge.staff_assignment a where a.role_name = 'admin'
                      and a.operation_id = (select id from refuge.operation where code = 'KEN')) \gset
\echo '== Erased at their request by the administrator (refuge.erase_individual)'
set role admin;
select e.number, r -> 'removed' as removed, r ->> 'audit_in_clear' as audit_in_clear
  from erased_person e, lateral refuge.erase_individual(e.id, 'request of the person, form DP-7') r;
reset role;
\echo '== What is left: a tombstone'
select i.number, i.status, i.given_name, i.family_name, i.date_of_birth from refuge.individual i join erased_person e on e.id = i.id;
\echo '== A search of every table of the database for rows about them that still hold their names, birth date, documents or phones'
do $$
declare
    e record;
    r record;
    n bigint;
    hits bigint := 0;
    tables int := 0;
begin
    select * into e from erased_person;
    -- a row about them (their id in it) that still holds their name, birth
    -- date, a document or phone number (other people of the same name are
    -- not them; a planted duplicate is another record of the same person)
    for r in select c.oid::regclass as rel from pg_class c join pg_namespace s on s.oid = c.relnamespace
              where c.relkind in ('r', 'p') and s.nspname in ('refuge', 'refuge_warehouse')
              order by 1 loop
        execute format('select count(*) from %s t where strpos(t::text, $1) > 0
                           and exists (select 1 from unnest(array[$2, $3, $4] || $5 || $6) v where strpos(t::text, v) > 0)', r.rel)
           into n using e.id::text, e.given_name, e.family_name, e.date_of_birth::text, e.documents, e.phones;
        tables := tables + 1;
        hits := hits + n;
        if n > 0 then
            raise notice '% rows of % still hold their data', n, r.rel;
        end if;
    end loop;
    raise notice '% tables searched, % rows about them holding their data', tables, hits;
end $$;
\echo '== The audit chain still verifies'
select v ->> 'intact' as intact, v ->> 'sealed_rows' as sealed_rows from refuge.verify_audit() v;
SQL
