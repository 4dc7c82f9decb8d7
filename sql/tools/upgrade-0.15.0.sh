#!/usr/bin/env bash
# Writes sql/upgrade/refuge--0.14.0--0.15.0.sql from the sources (until 0.15.0
# is released; then the script is history and this file goes with it).
set -eu
cd "$(dirname "$0")/../.."
{
cat <<'HEAD'
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

HEAD
python3 sql/tools/gen_upgrade.py \
  --replace functions/43_demographic.sql:match_profile_rows \
  --replace functions/43_demographic.sql:refresh_match_profiles \
  --new functions/43_demographic.sql:refresh_match_facts \
  --replace functions/43_demographic.sql:match_profile_sync \
  --replace sql/15_audit.sql:append_only \
  --new functions/46_erasure.sql:member_cases \
  --new functions/46_erasure.sql:case_file_erased \
  --new functions/46_erasure.sql:case_codes_only \
  --new functions/46_erasure.sql:erase_case_files \
  --replace functions/46_erasure.sql:erase_rows \
  --replace functions/46_erasure.sql:erase_individual \
  --replace sql/86_erasure.sql:erasure_arrived \
  --replace functions/60_cases.sql:case_for_update \
  --replace functions/30_registration.sql:request_status_change \
  --replace functions/65_lifecycle.sql:set_individual_status \
  --replace functions/65_lifecycle.sql:set_status_rule \
  --replace functions/45_data_protection.sql:subject_access_pdf \
  --replace functions/45_data_protection.sql:record_consent \
  --replace functions/43_demographic.sql:demographic_search_many \
  --new functions/43_demographic.sql:household_keyed \
  --new functions/43_demographic.sql:household_keys_of \
  --new functions/43_demographic.sql:refresh_household_keys \
  --replace functions/43_demographic.sql:demographic_blocked \
  --replace functions/43_demographic.sql:demographic_compared \
  --part sql/33_gallery_shards.sql \
  --part functions/44_gallery_shards.sql \
  --tables gallery_shard
cat <<'TAIL'
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
TAIL
} > sql/upgrade/refuge--0.14.0--0.15.0.sql
