-- Loads the labelled synthetic population of test/bench/demographic_gen.sql
-- (schema dgen) into Refuge's tables, households in batches, with every
-- trigger on (stamps, audit, match profiles), as registrations would leave
-- them: groups, individuals, memberships, original-script names, phones.
-- bench.map keeps which record each generated person became.
create schema if not exists bench;
create table if not exists bench.map (pid bigint primary key, iid uuid not null unique, gid uuid not null);

create or replace function bench.serial() returns text language sql as
  $$ select lpad(n::text, greatest(6, length(n::text)), '0') from (select nextval('refuge.number_seq') as n) x $$;

-- Households whose first person's pid lies in [lo, hi], 500 households a statement.
create or replace function bench.load(lo bigint, hi bigint) returns bigint language plpgsql as $$
declare
    h bigint[];
    n bigint := 0;
    k integer;
    done bigint;
begin
    -- (households kept back for the registration runs are not loaded)
    h := array(select distinct p.hh from dgen.person p where p.pid between lo and hi
                  and not exists (select 1 from bench.map m where m.pid = p.pid)
                  and p.hh not in (select r.hh from bench.reserved r) order by 1);
    for k in 0 .. coalesce(cardinality(h), 0) / 500 loop
        create temp table if not exists batch (pid bigint, hh bigint, iid uuid, gid uuid) on commit drop;
        truncate batch;
        insert into batch
        select p.pid, p.hh, gen_random_uuid(), g.gid
          from dgen.person p
          join (select x.hh, gen_random_uuid() as gid from unnest(h[k * 500 + 1 : k * 500 + 500]) x(hh)) g on g.hh = p.hh;
        insert into refuge.registration_group (id, number, operation_id, site_id, status, status_date, registration_date)
        select distinct on (b.gid) b.gid, format('%s-%s-%s', p.op, to_char(p.registration_date, 'YY'), bench.serial()),
               s.operation_id, s.id, 'ACTIVE', p.registration_date, p.registration_date
          from batch b join dgen.person p on p.pid = b.pid
          join refuge.site s on s.code = p.site
         order by b.gid, p.rel <> 'PA';
        insert into refuge.individual (id, number, operation_id, site_id, given_name, middle_name, family_name,
                                       mother_name, father_name, sex, date_of_birth, dob_precision, place_of_birth,
                                       birth_country, origin_country, population_type, population_type_date,
                                       registration_level, registration_date, status, status_date)
        select b.iid, format('%s-%s-%s', p.op, to_char(p.registration_date, 'YY'), bench.serial()),
               s.operation_id, s.id, p.given, p.middle, p.family, p.mother_name, p.father_name, p.sex, p.dob,
               p.dob_precision, p.place_of_birth, p.birth_country, p.birth_country, 'REF', p.registration_date, 'BASIC',
               p.registration_date, 'ACTIVE', p.registration_date
          from batch b join dgen.person p on p.pid = b.pid
          join refuge.site s on s.code = p.site
         where p.given is not null or p.family is not null;
        insert into refuge.group_membership (group_id, individual_id, relationship, valid_from, start_reason)
        select b.gid, b.iid, p.rel, p.registration_date, 'REGISTRATION'
          from batch b join dgen.person p on p.pid = b.pid
         where exists (select 1 from refuge.individual i where i.id = b.iid);
        insert into refuge.individual_name (individual_id, kind, script, given_name, family_name)
        select b.iid, 'ORIGINAL_SCRIPT', p.script, p.script_given, p.script_family
          from batch b join dgen.person p on p.pid = b.pid
         where p.script is not null and coalesce(p.script_given, p.script_family) is not null
           and exists (select 1 from refuge.individual i where i.id = b.iid);
        insert into refuge.individual_contact (individual_id, contact_type, value)
        select b.iid, 'MOBILE', p.phone
          from batch b join dgen.person p on p.pid = b.pid
         where p.phone is not null and exists (select 1 from refuge.individual i where i.id = b.iid);
        insert into bench.map select b.pid, b.iid, b.gid from batch b
         where exists (select 1 from refuge.individual i where i.id = b.iid);
        get diagnostics done = row_count;
        n := n + done;
    end loop;
    return n;
end $$;
