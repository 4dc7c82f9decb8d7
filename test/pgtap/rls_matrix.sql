-- Each role x each table x select/insert/update/delete behaves as designed.
-- The expected outcome of every cell is derived here from the access model;
-- a table that the model does not classify fails the first test.
begin;
\ir fixtures.inc

-- Identity management and assistance: their roles, and a row in every table
-- that can hold one without the vault key.
create role tap_bio_ken;        grant refuge_biometrics to tap_bio_ken;
create role tap_assist_ken;     grant refuge_assistance to tap_assist_ken;
create role tap_bioadmin;       grant refuge_biometrics_admin to tap_bioadmin;
select refuge.assign_staff('tap_bio_ken', 'KEN') is not null as a6 \gset
select refuge.assign_staff('tap_assist_ken', 'KEN') is not null as a7 \gset
create function pg_temp.person(tag text) returns uuid language sql as
  $f$ select id from refuge.individual where given_name = tag $f$;
-- enrolled heads in KEN (two sites) and UGA; a duplicate blocked in KEN; a grey-zone case in UGA
select refuge.enrol_biometrics(pg_temp.person('GivenK1'), refuge.synthetic_templates(31, 1)) is not null as e1 \gset
select refuge.enrol_biometrics(pg_temp.person('GivenN1'), refuge.synthetic_templates(31, 2)) is not null as e2 \gset
select refuge.enrol_biometrics(pg_temp.person('GivenU1'),
    jsonb_set(refuge.synthetic_templates(31, 3) #- '{irises,1}', '{missing}', '[{"part": "iris_left", "reason": "MEDICAL"}]'))
    is not null as e3 \gset
select refuge.enrol_biometrics(pg_temp.person('SonN1'), refuge.synthetic_templates(31, 1, 1)) is not null as e4 \gset
set local refuge.block_fpir = 1e-15;
select refuge.enrol_biometrics(pg_temp.person('SonU1'), jsonb_build_object(
    'fingers', jsonb_build_array(refuge.synthetic_templates(31, 3, 2) -> 'fingers' -> 1),
    'missing', (select jsonb_agg(jsonb_build_object('part', p, 'reason', 'BANDAGED')) from unnest(array['finger_1',
        'finger_3', 'finger_4', 'finger_5', 'finger_6', 'finger_7', 'finger_8', 'finger_9', 'finger_10',
        'iris_right', 'iris_left']) p))) is not null as e5 \gset
select refuge.enrol_biometrics(pg_temp.person('Req'), jsonb_build_object(
    'fingers', jsonb_build_array(refuge.synthetic_templates(31, 2, 2) -> 'fingers' -> 1),
    'missing', (select jsonb_agg(jsonb_build_object('part', p, 'reason', 'BANDAGED')) from unnest(array['finger_1',
        'finger_3', 'finger_4', 'finger_5', 'finger_6', 'finger_7', 'finger_8', 'finger_9', 'finger_10',
        'iris_right', 'iris_left']) p))) is not null as e6 \gset
reset refuge.block_fpir;
select refuge.adjudicate((select id from refuge.dedup_case where individual_id = pg_temp.person('SonU1')),
                         'different', null, 'different people') is not null as d1 \gset
select refuge.adjudicate((select id from refuge.dedup_case where individual_id = pg_temp.person('Req')),
                         'fraud', null, 'registered twice') is not null as d2 \gset
select refuge.verify(pg_temp.person('GivenK1'), refuge.synthetic_templates(31, 1, 3)) is not null as v1 \gset
select refuge.identify(refuge.synthetic_templates(31, 2, 3), 'KAKUMA', 'no documents') is not null as i1 \gset
select refuge.identify(refuge.synthetic_templates(31, 3, 3), 'NAKIVALE', 'verification exercise') is not null as i2 \gset
select refuge.create_assistance_plan('{"operation": "KEN", "code": "GFD", "name": "Food", "ration": {"maize_kg": 9},
    "population_types": ["REF"]}') as plan_id \gset
select refuge.open_assistance_cycle(:'plan_id', current_date, current_date + 14) ->> 'cycle_id' as cycle_id \gset
select refuge.open_distribution(:'cycle_id', 'KAKUMA') as dist_id \gset
select refuge.authorise_collector(g.id, pg_temp.person('SonK1'), 'mother ill') is not null as c1
  from refuge.registration_group g join refuge.group_membership m on m.group_id = g.id
 where m.individual_id = pg_temp.person('GivenK1') \gset
select refuge.collect(:'dist_id', m.group_id, m.individual_id, refuge.synthetic_templates(31, 1, 4)) is not null as k1
  from refuge.group_membership m where m.individual_id = pg_temp.person('GivenK1') \gset
-- How each table is classified.
create temp table access_class (tab text primary key, class text not null);
insert into access_class
select c.relname,
       case
         when exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'shipped') then 'shared'
         when c.relname in ('operation', 'site') then 'shared'
         when c.relname in ('staff', 'staff_assignment') then 'staff'
         when c.relname in ('registration_group', 'individual') then 'person'
         -- identity management and assistance: readers listed in access_reader below
         when c.relname in ('biometric_enrolment', 'biometric_exception', 'biometric_verification',
                            'biometric_identification', 'dedup_case',
                            'fraud_alert', 'fraud_case', 'biometric_capture', 'biometric_finger', 'biometric_iris',
                            'vault_access', 'dedup_candidate', 'dedup_cleared_pair', 'biometric_vault',
                            'assistance_plan', 'assistance_cycle', 'entitlement', 'collector',
                            'distribution_event', 'collection') then 'identity'
         when exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'individual_id' and not a.attisdropped)
              and c.relname <> 'api_request' then 'person_child'
         when c.relname = 'audit_log' then 'audit'
         when c.relname = 'api_request' then 'internal'
       end
  from pg_class c
 where c.relnamespace = 'refuge'::regnamespace and c.relkind in ('r', 'p');

-- Identity tables: which group roles read them within their scope, and
-- whether HQ biometrics administrators read all of them.
create temp table access_reader (tab text primary key, staff text[] not null, hq boolean not null);
insert into access_reader values
  ('biometric_enrolment', '{refuge_registration,refuge_supervisor,refuge_biometrics,refuge_assistance}', true),
  ('biometric_exception', '{refuge_registration,refuge_supervisor,refuge_biometrics}', true),
  ('biometric_verification', '{refuge_supervisor,refuge_biometrics,refuge_assistance}', true),
  ('biometric_identification', '{refuge_supervisor,refuge_biometrics}', true),
  ('dedup_case', '{refuge_supervisor}', true),
  ('fraud_alert', '{refuge_supervisor}', true),
  ('fraud_case', '{refuge_supervisor}', true),
  ('biometric_capture', '{}', true),
  ('biometric_finger', '{}', true),
  ('biometric_iris', '{}', true),
  ('vault_access', '{}', true),
  ('dedup_candidate', '{refuge_supervisor}', true),
  ('dedup_cleared_pair', '{}', true),
  ('biometric_vault', '{}', false),
  ('assistance_plan', '{refuge_assistance,refuge_supervisor}', false),
  ('assistance_cycle', '{refuge_assistance,refuge_supervisor}', false),
  ('entitlement', '{refuge_assistance,refuge_supervisor}', false),
  ('collector', '{refuge_assistance,refuge_supervisor}', false),
  ('distribution_event', '{refuge_assistance,refuge_supervisor}', false),
  ('collection', '{refuge_assistance,refuge_supervisor}', false);

create temp table tap_role (role text primary key);
insert into tap_role values ('tap_reg_ken'), ('tap_reg_kakuma'), ('tap_sup_ken'), ('tap_analyst'), ('tap_admin'),
  ('tap_nobody'), ('tap_expired'), ('tap_bio_ken'), ('tap_assist_ken'), ('tap_bioadmin');

-- Rows a role should see: -1 means permission denied.
create function pg_temp.expected(t text, r text) returns bigint language plpgsql as $$
declare
    cls text := (select class from access_class where tab = t);
    ken uuid := (select id from refuge.operation where code = 'KEN');
    kakuma uuid := (select id from refuge.site where code = 'KAKUMA');
    rd access_reader;
    n bigint;
    opfilter text;
    has_site boolean;
begin
    if r = 'tap_nobody' then return -1; end if;
    if cls = 'shared' then
        execute format('select count(*) from refuge.%I', t) into n;
        return n;
    elsif cls = 'staff' then
        if r = 'tap_admin' then execute format('select count(*) from refuge.%I', t) into n; return n;
        elsif r in ('tap_reg_ken', 'tap_reg_kakuma', 'tap_expired') then
            execute format('select count(*) from refuge.%I where role_name = %L', t, r) into n; return n;
        elsif r = 'tap_sup_ken' then
            if t = 'staff' then
                select count(distinct role_name) into n from refuge.staff_assignment where operation_id = ken;
            else
                select count(*) into n from refuge.staff_assignment where operation_id = ken;
            end if;
            return n;
        end if;
        return -1;
    elsif cls in ('person', 'person_child') then
        -- identity staff see the people, families and memberships they serve; HQ sees all of them
        if t in ('individual', 'registration_group', 'group_membership') and r = 'tap_bioadmin' then
            execute format('select count(*) from refuge.%I', t) into n;
            return n;
        end if;
        if r not in ('tap_reg_ken', 'tap_reg_kakuma', 'tap_sup_ken', 'tap_expired')
           and not (r in ('tap_bio_ken', 'tap_assist_ken') and t in ('individual', 'registration_group', 'group_membership')) then
            return -1;
        end if;
        if r = 'tap_expired' then return 0; end if;
        opfilter := case when r = 'tap_reg_kakuma' then format('site_id = %L', kakuma)
                         else format('operation_id = %L', ken) end;
        if cls = 'person' then
            execute format('select count(*) from refuge.%I where %s', t, opfilter) into n;
        else
            execute format('select count(*) from refuge.%I x where exists (select 1 from refuge.individual i
                            where i.id = x.individual_id and i.%s)', t, opfilter) into n;
        end if;
        return n;
    elsif cls = 'identity' then
        select * into rd from access_reader where tab = t;
        if exists (select 1 from unnest(rd.staff) g where pg_has_role(r, g, 'MEMBER')) then
            if r = 'tap_expired' then return 0; end if;
            has_site := exists (select 1 from pg_attribute a where a.attrelid = ('refuge.' || t)::regclass and a.attname = 'site_id');
            opfilter := case when t = 'dedup_candidate' then
                                 -- through its case
                                 format('exists (select 1 from refuge.dedup_case c where c.id = x.case_id and c.operation_id = %L)', ken)
                             when r = 'tap_reg_kakuma' then
                                 case when has_site then format('site_id = %L', kakuma) else 'false' end
                             else format('operation_id = %L', ken) end;
            execute format('select count(*) from refuge.%I x where %s', t, opfilter) into n;
            return n;
        elsif rd.hq and r = 'tap_bioadmin' then
            execute format('select count(*) from refuge.%I', t) into n;
            return n;
        end if;
        return -1;
    elsif cls = 'audit' then
        if r = 'tap_sup_ken' then select count(*) into n from refuge.audit_log where operation_id = ken; return n;
        elsif r = 'tap_admin' then select count(*) into n from refuge.audit_log where operation_id is null; return n;
        end if;
        return -1;
    end if;
    return -1;   -- internal
end
$$;

-- What a role actually gets for one command: a row count, 'denied', or the SQLSTATE.
create function pg_temp.attempt(t text, r text, cmd text) returns text language plpgsql as $$
declare
    n bigint;
    col text := (select attname from pg_attribute where attrelid = ('refuge.' || t)::regclass
                  and attnum > 0 and not attisdropped and attidentity = '' and attgenerated = ''
                order by attnum limit 1);
    result text;
begin
    execute format('set local role %I', r);
    begin
        if cmd = 'select' then
            execute format('select count(*) from refuge.%I', t) into n;
            result := n::text;
        elsif cmd = 'insert' then
            execute format('insert into refuge.%I default values', t);
            result := 'inserted';
        elsif cmd = 'update' then
            execute format('update refuge.%I set %I = %I', t, col, col);
            get diagnostics n = row_count;
            result := 'updated ' || n;
        else
            execute format('delete from refuge.%I', t);
            get diagnostics n = row_count;
            result := 'deleted ' || n;
        end if;
    exception when insufficient_privilege then
        result := 'denied';
    when others then
        result := sqlstate;
    end;
    reset role;
    return result;
end
$$;

select plan((select 4 + count(*)::int * (select count(*)::int from tap_role) * 4 from access_class));

select is((select array_agg(tab order by tab) from access_class where class is null), null,
          'every table of schema refuge has an access class');
select cmp_ok((select count(*) from access_class where class in ('person', 'person_child')), '>=', 14::bigint,
              'the registration tables are all classified as personal data');
select is((select array_agg(tab order by tab) from access_class where class = 'identity' and tab not in (select tab from access_reader)),
          null, 'every identity table has its readers listed');
create function pg_temp.rows_of(t text) returns bigint language plpgsql as
  $f$ declare n bigint; begin execute format('select count(*) from refuge.%I', t) into n; return n; end $f$;
select is((select array_agg(tab order by tab) from access_reader
            where tab not in ('biometric_vault', 'vault_access') and pg_temp.rows_of(tab) = 0), null,
          'the fixtures put rows in every identity table but the vault''s (so the counts below can differ)');

select is(pg_temp.attempt(t.tab, r.role, 'select'),
          case when pg_temp.expected(t.tab, r.role) = -1 then 'denied' else pg_temp.expected(t.tab, r.role)::text end,
          format('%s: select on %s', r.role, t.tab))
  from access_class t,
       tap_role r
 order by t.tab, r.role;

select is(pg_temp.attempt(t.tab, r.role, c.cmd), 'denied', format('%s: %s on %s', r.role, c.cmd, t.tab))
  from access_class t,
       tap_role r,
       unnest(array['insert', 'update', 'delete']) c(cmd)
 order by t.tab, r.role, c.cmd;

select * from finish();
rollback;
