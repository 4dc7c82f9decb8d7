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
-- Case management: module roles, a partner, and a row in every case table
-- that can hold one without the vault key.
create role tap_rsd_ken;        grant refuge_rsd to tap_rsd_ken;
create role tap_prot_kakuma;    grant refuge_protection to tap_prot_kakuma;
create role tap_partner;        grant refuge_partner to tap_partner;
select refuge.assign_staff('tap_rsd_ken', 'KEN') is not null as a8 \gset
select refuge.assign_staff('tap_prot_kakuma', 'KEN', 'KAKUMA') is not null as a9 \gset
select refuge.create_partner('IRC', 'International Rescue Committee') is not null as p1 \gset
select refuge.define_agreement('{"code": "IRC-TAP", "title": "IRC referrals", "party_kind": "PARTNER", "partner": "IRC",
    "party_name": "International Rescue Committee", "purposes": ["REFERRAL"], "fields": ["CASE", "MEMBERS"], "legal_basis": "CONSENT",
    "valid_from": "2026-01-01", "valid_until": "2030-12-31", "security_terms": "need-to-know", "signed_by": "Representative",
    "signed_on": "2026-01-01"}') is not null as agr \gset
select refuge.assign_partner_staff('tap_partner', 'IRC') is not null as p2 \gset
select refuge.open_case('RSD', pg_temp.person('GivenK1'), array[pg_temp.person('SonK1')]) ->> 'case_id' as rsd_k \gset
select refuge.open_case('RSD', pg_temp.person('GivenU1')) ->> 'case_id' as rsd_u \gset
select refuge.record_consent(pg_temp.person('GivenK1'), 'REFERRAL') is not null as c0,
       refuge.record_consent(pg_temp.person('GivenK1'), 'SGBV') is not null as c1,
       refuge.record_consent(pg_temp.person('GivenN1'), 'SGBV') is not null as c2 \gset
select refuge.open_case('SGBV', pg_temp.person('GivenK1')) ->> 'case_id' as sgbv_k \gset
select refuge.open_case('SGBV', pg_temp.person('GivenN1')) ->> 'case_id' as sgbv_n \gset
select refuge.open_case('VULNERABILITY', pg_temp.person('SonN1')) ->> 'case_id' as vul_n \gset
select refuge.open_case('BID', pg_temp.person('SonK1'), '{}', '{"child_status": "SEPARATED"}') ->> 'case_id' as bid_k \gset
select refuge.open_case('FRAUD', pg_temp.person('SonN1'), '{}',
    jsonb_build_object('fraud_alert_id', (select min(id::text) from refuge.fraud_alert))) ->> 'case_id' as fraud_n \gset
select refuge.transition_case(:'rsd_k', 'ASSIGN_MODALITY', '{"modality": "REGULAR"}') is not null as t1 \gset
select refuge.transition_case(:'bid_k', 'COMPLETE_BIA', '{"risk_level": "HIGH"}') is not null as t2 \gset
select refuge.assign_case(:'rsd_k', 'tap_rsd_ken') is not null as t3 \gset
select refuge.flag_case(:'sgbv_n', 'threats', 'refuge_protection') is not null as t4 \gset
select refuge.add_case_note(:'rsd_k', 'interview notes', false) is not null as n1 \gset
select refuge.add_case_note(:'sgbv_k', 'survivor seen', false) as note_sgbv \gset
select refuge.read_case_note(:'note_sgbv', 'follow-up') is not null as n2 \gset
select refuge.add_case_document(:'rsd_k', 'ID copy', 'image/png', '\x89504e47', false) is not null as n3 \gset
select refuge.add_case_document(:'sgbv_n', 'Medical form', 'application/pdf', '\x25504446', false) is not null as n4 \gset
select refuge.link_case(:'rsd_k', 'process_case', :'bid_k', 'same family') is null as l1 \gset
select refuge.refer_case(:'rsd_k', 'IRC', array['CASE'], 'legal aid', agreement => 'IRC-TAP') is not null as r2 \gset
select refuge.request_case_transfer(:'sgbv_n', 'UGA', 'NAKIVALE', 'moved') is not null as x1 \gset

-- Field-site records: requests, conflicts and global checks of both operations.
select count(refuge.sync_record_conflict('rejected_row', 'individual', '{}', id, null, 'K1', null, null, null, 'test')) as c1
  from refuge.operation where code in ('KEN', 'UGA') \gset
insert into refuge.sync_change (target_node, table_name, row_key, action, operation_id)
select 'K1', 'individual', '{}', 'DELETE', id from refuge.operation where code in ('KEN', 'UGA');
insert into refuge.global_check (capture_id, individual_id, operation_id, field_node, decision, matched_operation_id)
select gen_random_uuid(), gen_random_uuid(), o.id, 'K1', 'blocked', m.id
  from refuge.operation o, refuge.operation m where o.code in ('KEN', 'UGA') and m.code in ('KEN', 'UGA');

-- How each table is classified.
create temp table access_class (tab text primary key, class text not null);
insert into access_class
select c.relname,
       case
         when c.relname in ('sync_local', 'sync_node', 'sync_nearby', 'sync_table', 'sync_change', 'sync_conflict',
                            'global_check') then 'sync'
         when exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'shipped') then 'shared'
         when c.relname in ('operation', 'site', 'partner_organisation', 'document_key', 'sharing_agreement',
                            'purpose_legal_basis', 'retention_setting') then 'shared'
         when c.relname in ('staff', 'staff_assignment') then 'staff'
         when c.relname in ('registration_group', 'individual') then 'person'
         -- identity management and assistance: readers listed in access_reader below
         when c.relname in ('biometric_enrolment', 'biometric_exception', 'biometric_verification',
                            'biometric_identification', 'dedup_case',
                            'fraud_alert', 'fraud_case', 'biometric_capture', 'biometric_finger', 'biometric_iris',
                            'vault_access', 'dedup_candidate', 'dedup_cleared_pair', 'biometric_vault',
                            'assistance_plan', 'assistance_cycle', 'entitlement', 'collector',
                            'distribution_event', 'collection') then 'identity'
         -- case management: readers derived from the modules' roles and scope below
         when c.relname in ('process_case', 'case_member', 'case_event', 'case_approval', 'case_alert', 'case_link',
                            'case_referral', 'case_transfer', 'case_note', 'case_document', 'gbv_incident',
                            'partner_staff', 'sensitive_read') then 'case'
         when c.relname in ('audit_seal', 'warehouse_key', 'retention_run') then 'internal'
         -- per-person keys: no role reads them, wrapped or not
         when c.relname in ('person_key', 'vault_key_retired') then 'internal'
         when c.relname = 'erasure' then 'erasure'
         when c.relname = 'publication' then 'publication'
         -- the demographic search's derived index and model: read only through the API
         when c.relname in ('match_profile', 'match_block', 'match_weight', 'match_model') then 'internal'
         when c.relname = 'audit_scope' then 'shared'
         when c.relname = 'audit_bulk_load' then 'bulk'
         -- gallery shards: the DBA and HQ's biometrics administrators
         when c.relname = 'gallery_shard' then 'gallery'
         when c.relname in ('status_change', 'appointment', 'appointment_slot', 'pre_registration') then 'person'
         when c.relname = 'verification_exercise' then 'exercise'
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
  ('biometric_capture', '{}', false),
  ('biometric_finger', '{}', false),
  ('biometric_iris', '{}', false),
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
  ('tap_nobody'), ('tap_expired'), ('tap_bio_ken'), ('tap_assist_ken'), ('tap_bioadmin'), ('tap_rsd_ken'),
  ('tap_prot_kakuma'), ('tap_partner');

-- Cases a role should see, derived here from case_module.roles and the
-- role's assignments (not from the policies under test).
create function pg_temp.visible_cases(r text) returns setof uuid language sql as $$
  select x.id from refuge.process_case x
   where x.module in (select m.code from refuge.case_module m
                       where exists (select 1 from unnest(m.roles) g where pg_has_role(r, g, 'MEMBER')))
     and (x.operation_id in (select a.operation_id from refuge.staff_assignment a where a.role_name = r and a.site_id is null
                              and current_date between a.valid_from and coalesce(a.valid_to, current_date))
          or x.site_id in (select a.site_id from refuge.staff_assignment a where a.role_name = r and a.site_id is not null
                            and current_date between a.valid_from and coalesce(a.valid_to, current_date)))
$$;
create function pg_temp.in_scope_of(r text, op uuid, st uuid) returns boolean language sql as $$
  select exists (select 1 from refuge.staff_assignment a where a.role_name = r
                    and current_date between a.valid_from and coalesce(a.valid_to, current_date)
                    and ((a.site_id is null and a.operation_id = op) or a.site_id = st))
$$;

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
        -- a partner's staff read their own organisation's agreements only
        -- analysts have no business with agreements (they read published aggregates)
        if t = 'sharing_agreement' and r = 'tap_analyst' then
            return -1;
        end if;
        if t = 'sharing_agreement' and r = 'tap_partner' then
            select count(*) into n from refuge.sharing_agreement x
             where x.partner_id = (select partner_id from refuge.partner_staff where role_name = r);
            return n;
        end if;
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
    elsif cls = 'case' then
        if t = 'gbv_incident' then return -1; end if;
        if t = 'partner_staff' then
            if r = 'tap_admin' then select count(*) into n from refuge.partner_staff; return n;
            elsif r = 'tap_partner' then select count(*) into n from refuge.partner_staff where role_name = r; return n;
            end if;
            return -1;
        end if;
        if t = 'sensitive_read' then
            -- reads of cases in the modules the supervisor works (fraud) and reads outside cases
            if r = 'tap_sup_ken' then
                select count(*) into n from refuge.sensitive_read where operation_id = ken and (module is null or module = 'FRAUD');
                return n;
            end if;
            return -1;
        end if;
        if t = 'case_referral' and r = 'tap_partner' then
            select count(*) into n from refuge.case_referral x
             where x.partner_id = (select partner_id from refuge.partner_staff where role_name = r);
            return n;
        end if;
        if not exists (select 1 from unnest(array['refuge_rsd', 'refuge_resettlement', 'refuge_protection',
                          'refuge_child_protection', 'refuge_assistance', 'refuge_supervisor']) g
                        where pg_has_role(r, g, 'MEMBER')) then
            return -1;
        end if;
        if t = 'process_case' then
            select count(*) into n from pg_temp.visible_cases(r);
        elsif t = 'case_transfer' then
            select count(*) into n from refuge.case_transfer x
             where x.case_id in (select pg_temp.visible_cases(r))
                or (pg_temp.in_scope_of(r, x.to_operation, x.to_site)
                    and exists (select 1 from refuge.process_case c join refuge.case_module m on m.code = c.module
                                 where c.id = x.case_id
                                   and exists (select 1 from unnest(m.roles) g where pg_has_role(r, g, 'MEMBER'))));
        elsif t in ('case_note', 'case_document') then
            execute format('select count(*) from refuge.%I x join refuge.process_case c on c.id = x.case_id
                             join refuge.case_module m on m.code = c.module
                            where not m.sensitive and x.case_id in (select pg_temp.visible_cases(%L))', t, r) into n;
        else
            execute format('select count(*) from refuge.%I x where x.case_id in (select pg_temp.visible_cases(%L))', t, r) into n;
        end if;
        return n;
    elsif cls in ('person', 'person_child') then
        -- case officers see the people and families of their operations and of the cases they work
        if t in ('individual', 'registration_group', 'group_membership') and r in ('tap_rsd_ken', 'tap_prot_kakuma') then
            if t = 'individual' then
                select count(*) into n from refuge.individual i
                 where pg_temp.in_scope_of(r, i.operation_id, i.site_id)
                    or exists (select 1 from refuge.case_member cm where cm.individual_id = i.id
                                and cm.case_id in (select pg_temp.visible_cases(r)));
            elsif t = 'registration_group' then
                select count(*) into n from refuge.registration_group g
                 where pg_temp.in_scope_of(r, g.operation_id, g.site_id)
                    or exists (select 1 from refuge.process_case c where c.group_id = g.id
                                and c.id in (select pg_temp.visible_cases(r)));
            else
                select count(*) into n from refuge.group_membership gm join refuge.individual i on i.id = gm.individual_id
                 where pg_temp.in_scope_of(r, i.operation_id, i.site_id)
                    or exists (select 1 from refuge.case_member cm where cm.individual_id = i.id
                                and cm.case_id in (select pg_temp.visible_cases(r)));
            end if;
            return n;
        end if;
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
        elsif t in ('consent', 'information_notice') then
            -- consents and notices of a sensitive module's purpose (SGBV) are that module's staff's only
            execute format('select count(*) from refuge.%I x where exists (select 1 from refuge.individual i
                            where i.id = x.individual_id and i.%s)
                              and not exists (select 1 from refuge.case_module m where m.code = x.purpose and m.sensitive)',
                           t, opfilter) into n;
        else
            execute format('select count(*) from refuge.%I x where exists (select 1 from refuge.individual i
                            where i.id = x.individual_id and i.%s)', t, opfilter) into n;
        end if;
        return n;
    elsif cls = 'exercise' then
        -- verification exercises: registration staff of the operation, or of one of its sites
        if r in ('tap_reg_ken', 'tap_sup_ken') then
            select count(*) into n from refuge.verification_exercise where operation_id = ken; return n;
        elsif r = 'tap_reg_kakuma' then
            select count(*) into n from refuge.verification_exercise where kakuma = any (site_ids); return n;
        elsif r = 'tap_expired' then return 0;
        end if;
        return -1;
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
        -- as narrowly as the rows described: the supervisor's operation, registration-side classes and the
        -- modules a supervisor works (fraud); configuration for administrators; identity and biometrics at HQ
        if r = 'tap_sup_ken' then
            select count(*) into n from refuge.audit_log
             where operation_id = ken
               and ((module is null and class in ('registration', 'identity', 'assistance', 'access_log', 'config'))
                    or module = 'FRAUD');
            return n;
        elsif r = 'tap_admin' then select count(*) into n from refuge.audit_log where class = 'config'; return n;
        elsif r = 'tap_bioadmin' then
            select count(*) into n from refuge.audit_log where class in ('identity', 'biometric'); return n;
        end if;
        return -1;
    elsif cls = 'sync' then
        -- field sites: node tables for those who administer; requests and conflicts (personal values)
        -- for the operation's supervisors and administrators; global checks like enrolments
        if t = 'sync_local' and r not in ('tap_analyst', 'tap_partner')
           or t in ('sync_node', 'sync_nearby') and r in ('tap_admin', 'tap_sup_ken')
           or t = 'sync_table' and r = 'tap_admin'
           or t = 'global_check' and r = 'tap_bioadmin' then
            execute format('select count(*) from refuge.%I', t) into n;
            return n;
        elsif t in ('sync_change', 'sync_conflict') and r in ('tap_admin', 'tap_sup_ken')
              or t = 'global_check' and exists (select 1 from unnest(array['refuge_registration', 'refuge_supervisor',
                                                  'refuge_biometrics', 'refuge_assistance']) g where pg_has_role(r, g, 'MEMBER')) then
            execute format('select count(*) from refuge.%I x where x.operation_id in (select a.operation_id from refuge.staff_assignment a
                             where a.role_name = %L and a.site_id is null and current_date between a.valid_from and coalesce(a.valid_to, current_date))
                             %s', t, r,
                           '') into n;
            return n;
        end if;
        return -1;
    elsif cls = 'bulk' then
        if r = 'tap_admin' then select count(*) into n from refuge.audit_bulk_load; return n; end if;
        return -1;
    elsif cls = 'publication' then
        if r = 'tap_admin' then select count(*) into n from refuge.publication; return n; end if;
        return -1;
    elsif cls = 'gallery' then
        if r = 'tap_bioadmin' then select count(*) into n from refuge.gallery_shard; return n; end if;
        return -1;
    elsif cls = 'erasure' then
        -- admins and supervisors of the operation (no person is named: ids, counts, reason)
        if r in ('tap_admin', 'tap_sup_ken') then
            select count(*) into n from refuge.erasure x
             where x.operation_id in (select a.operation_id from refuge.staff_assignment a where a.role_name = r
                                         and current_date between a.valid_from and coalesce(a.valid_to, current_date));
            return n;
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

select plan((select 5 + count(*)::int * (select count(*)::int from tap_role) * 4 from access_class));

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
select is((select array_agg(tab order by tab) from access_class
            where class = 'case' and tab <> 'gbv_incident' and pg_temp.rows_of(tab) = 0), null,
          'the fixtures put rows in every case table but the sealed incidents''');

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
