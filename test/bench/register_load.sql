-- Bulk baseline for the registration benchmark: :families synthetic families
-- (5 people each, with nationality, language and a flight leg for the
-- principal representative) written straight into the tables with triggers
-- off (session_replication_role = replica).  Only the size of the database
-- matters here; the benchmark itself goes through refuge.register_group with
-- every trigger, check and audit on.
set row_security = off;  -- a bulk load: recorded per statement in refuge.audit_bulk_load
set synchronous_commit = off;
\set ON_ERROR_STOP 1
create function pg_temp.refuge_bench_serial() returns text language sql as
  $$ select lpad(n::text, greatest(6, length(n::text)), '0') from (select nextval('refuge.number_seq') as n) x $$;

create temp table site_pick as
select row_number() over (order by s.code) - 1 as k, s.id as site_id, s.operation_id, o.code
  from refuge.site s join refuge.operation o on o.id = s.operation_id;

create temp table fam as
select g, gen_random_uuid() as gid, p.site_id, p.operation_id, p.code,
       current_date - (random() * 1800)::int as reg
  from generate_series(1, :families) g
  join site_pick p on p.k = g % (select count(*) from site_pick);

insert into refuge.registration_group (id, number, operation_id, site_id, status, status_date, registration_date,
                                       created_at, created_by, updated_at, updated_by)
select gid, format('%s-%s-%s', code, to_char(reg, 'YY'), pg_temp.refuge_bench_serial()),
       operation_id, site_id, 'ACTIVE', reg, reg, now(), 'bench_load', now(), 'bench_load'
  from fam;

create temp table ind as
select f.gid, f.site_id, f.operation_id, f.code, f.reg, m, gen_random_uuid() as iid,
       case when m = 1 then 'PA' when m = 2 then 'WIF' when random() < 0.5 then 'SON' else 'DAU' end as rel,
       case when m = 1 then 'M' when m = 2 then 'F' when random() < 0.5 then 'M' else 'F' end as sex,
       case when m <= 2 then current_date - (6570 + random() * 14000)::int else current_date - (random() * 6500)::int end as dob
  from fam f, generate_series(1, 5) m;

insert into refuge.individual (id, number, operation_id, site_id, given_name, family_name, sex, date_of_birth,
                               dob_precision, origin_country, population_type, population_type_date,
                               registration_level, registration_date, status, status_date,
                               created_at, created_by, updated_at, updated_by)
select iid, format('%s-%s-%s', code, to_char(reg, 'YY'), pg_temp.refuge_bench_serial()),
       operation_id, site_id, (array['Nyakim','Deng','Amina','Abdi','Furaha','Jean','Achol','Halima'])[1 + (random() * 7)::int],
       (array['Gatdet','Hassan','Mukendi','Habimana','Warsame','Bol','Kabila','Osman'])[1 + (random() * 7)::int],
       sex, dob, 'EXACT', 'SSD', 'REF', reg, 'BASIC', reg, 'ACTIVE', reg, now(), 'bench_load', now(), 'bench_load'
  from ind;

insert into refuge.group_membership (id, group_id, individual_id, relationship, valid_from, start_reason,
                                     created_at, created_by, updated_at, updated_by)
select gen_random_uuid(), gid, iid, rel, reg, 'REGISTRATION', now(), 'bench_load', now(), 'bench_load' from ind;

insert into refuge.individual_nationality (id, individual_id, country, is_primary, created_at, created_by, updated_at, updated_by)
select gen_random_uuid(), iid, 'SSD', true, now(), 'bench_load', now(), 'bench_load' from ind;

insert into refuge.individual_language (id, individual_id, language, mother_tongue, created_at, created_by, updated_at, updated_by)
select gen_random_uuid(), iid, 'nus', true, now(), 'bench_load', now(), 'bench_load' from ind;

insert into refuge.flight_leg (id, individual_id, seq, place, country, location, departed_on, date_precision, reasons,
                               created_at, created_by, updated_at, updated_by)
select gen_random_uuid(), iid, 1, 'Bor', 'SSD', refuge.make_point(31.56, 6.21), reg - 20, 'EXACT', '{ARMED_CONFLICT}',
       now(), 'bench_load', now(), 'bench_load'
  from ind where m = 1;

analyze;
