-- The API authorises the caller: right role, right operation or site, valid
-- assignment; staff of one operation can neither read nor write another's
-- people; analysts get only suppressed aggregates.
begin;
\ir fixtures.inc
select plan(34);

create function pg_temp.as_role(r text, q text) returns text language plpgsql as $$
declare
    result text;
begin
    execute format('set local role %I', r);
    begin
        execute q into result;
    exception when others then
        result := sqlstate;
    end;
    reset role;
    return result;
end
$$;
create function pg_temp.ind(given text) returns uuid language sql as $$ select id from refuge.individual where given_name = given $$;
create function pg_temp.grp(given text) returns uuid language sql as $$
  select group_id from refuge.group_membership where individual_id = pg_temp.ind(given) and valid_to is null $$;

-- reading (concrete numbers, so the derived matrix cannot pass vacuously)
select is(pg_temp.as_role('tap_reg_ken', 'select count(*) from refuge.individual'), '5', 'KEN registration sees the 5 people of KEN');
select is(pg_temp.as_role('tap_reg_kakuma', 'select count(*) from refuge.individual'), '3', 'a Kakuma-only clerk sees the 3 people of Kakuma');
select is(pg_temp.as_role('tap_reg_uga', 'select count(*) from refuge.individual'), '2', 'UGA registration sees the 2 people of UGA');
select is(pg_temp.as_role('tap_reg_uga', $$select string_agg(given_name, ',' order by given_name) from refuge.individual$$),
          'GivenU1,SonU1', 'and only them');
select is(pg_temp.as_role('tap_reg_ken', $$select count(*) from refuge.document where number = 'ID-U1'$$), '0',
          'a UGA document is invisible to KEN staff');
select is(pg_temp.as_role('tap_sup_ken', 'select count(*) from refuge.current_member'), '5', 'the current_member view applies RLS');
select is(pg_temp.as_role('tap_expired', 'select count(*) from refuge.individual'), '0', 'an expired assignment gives no access');
select is(pg_temp.as_role('tap_analyst', 'select count(*) from refuge.individual'), '42501', 'analysts cannot read individuals');
select is(pg_temp.as_role('tap_admin', 'select count(*) from refuge.individual'), '42501', 'administrators cannot read individuals');

-- writing across operations and sites
select is(pg_temp.as_role('tap_reg_ken', $$select refuge.register_group('{"operation": "UGA", "site": "NAKIVALE",
  "registration_level": "BASIC", "population_type": "REF", "members": [{"relationship": "PA", "given_name": "X", "sex": "M"}]}') ->> 'replayed'$$),
  '42501', 'KEN staff cannot register in UGA');
select is(pg_temp.as_role('tap_reg_kakuma', $$select refuge.register_group('{"operation": "KEN", "site": "NAIROBI",
  "registration_level": "BASIC", "population_type": "REF", "members": [{"relationship": "PA", "given_name": "X", "sex": "M"}]}') ->> 'replayed'$$),
  '42501', 'a Kakuma-only clerk cannot register in Nairobi');
select is(pg_temp.as_role('tap_reg_kakuma', $$select refuge.register_group('{"operation": "KEN", "site": "KAKUMA",
  "registration_level": "BASIC", "population_type": "REF", "members": [{"relationship": "PA", "given_name": "Kak", "sex": "M"}]}') ->> 'replayed'$$),
  'false', 'a Kakuma-only clerk registers in Kakuma');
select is((select created_by::text from refuge.individual where given_name = 'Kak'), 'tap_reg_kakuma', 'the row is attributed to the clerk');
select is(pg_temp.as_role('tap_expired', $$select refuge.register_group('{"operation": "KEN", "site": "KAKUMA",
  "registration_level": "BASIC", "population_type": "REF", "members": [{"relationship": "PA", "given_name": "X", "sex": "M"}]}') ->> 'replayed'$$),
  '42501', 'an expired assignment cannot register');
select is(pg_temp.as_role('tap_reg_uga', format($$select refuge.update_individual(%L, '{"given_name": "Hacked"}') ->> 'number'$$,
  pg_temp.ind('GivenK1'))), 'P0002', 'UGA staff cannot update a KEN individual (reported as not found)');
select is((select count(*)::int from refuge.individual where given_name = 'Hacked'), 0, 'and nothing changed');
select is(pg_temp.as_role('tap_reg_uga', format($$select refuge.add_specific_need(%L, '{"code": "SM-CI"}')::text$$,
  pg_temp.ind('GivenK1'))), 'P0002', 'nor add a need to one');
select is(pg_temp.as_role('tap_reg_uga', format($$select refuge.add_document(%L, '{"type": "PASSPORT", "number": "Z9"}')::text$$,
  pg_temp.ind('GivenK1'))), 'P0002', 'nor a document');
select is(pg_temp.as_role('tap_reg_kakuma', format($$select refuge.update_individual(%L, '{"middle_name": "x"}') ->> 'number'$$,
  pg_temp.ind('GivenN1'))), 'P0002', 'a Kakuma-only clerk cannot update a Nairobi individual');
select isnt(pg_temp.as_role('tap_reg_ken', format($$select refuge.update_individual(%L, '{"middle_name": "ok"}') ->> 'number'$$,
  pg_temp.ind('GivenN1'))), 'P0002', 'KEN staff can update a Nairobi individual');

-- role rights
select is(pg_temp.as_role('tap_reg_ken', format($$select refuge.split_group(%L, %L, 'x') ->> 'group_number'$$, pg_temp.grp('GivenK1'),
  jsonb_build_array(jsonb_build_object('individual_id', pg_temp.ind('SonK1'), 'relationship', 'PA')))), '42501',
  'registration staff cannot split a group');
select isnt(pg_temp.as_role('tap_sup_ken', format($$select refuge.split_group(%L, %L, 'son registered alone') ->> 'group_number'$$,
  pg_temp.grp('GivenK1'), jsonb_build_array(jsonb_build_object('individual_id', pg_temp.ind('SonK1'), 'relationship', 'PA')))), '42501',
  'a KEN supervisor can');
select is(pg_temp.as_role('tap_sup_ken', format($$select refuge.merge_groups(%L, %L, '{}', 'x') ->> 'group_number'$$,
  pg_temp.grp('GivenK1'), pg_temp.grp('GivenU1'))), 'P0002', 'a KEN supervisor cannot merge a UGA group');
select is(pg_temp.as_role('tap_reg_ken', $$select refuge.create_operation('SOM', 'SOM', 'Somalia')::text$$), '42501',
  'registration staff cannot create operations');
select isnt(pg_temp.as_role('tap_admin', $$select refuge.create_operation('SOM', 'SOM', 'Somalia')::text$$), '42501',
  'administrators can');
select is(pg_temp.as_role('tap_admin', $$select refuge.register_group('{"operation": "KEN", "site": "KAKUMA",
  "registration_level": "BASIC", "population_type": "REF", "members": [{"relationship": "PA", "given_name": "X", "sex": "M"}]}') ->> 'replayed'$$),
  '42501', 'administrators cannot register people');
select is(pg_temp.as_role('tap_nobody', $$select refuge.register_group('{}') ->> 'replayed'$$), '42501',
  'a role outside refuge cannot call the API');
select is(pg_temp.as_role('tap_analyst', $$select refuge.register_group('{}') ->> 'replayed'$$), '42501',
  'analysts cannot call the registration API');

-- idempotency is per caller
select is(pg_temp.as_role('tap_reg_ken', $$select refuge.register_group('{"request_id": "00000000-0000-4000-8000-0000000000aa",
  "operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "REF",
  "members": [{"relationship": "PA", "given_name": "Req", "sex": "M"}]}') ->> 'replayed'$$), 'false',
  'another caller reusing someone else''s request id neither replays nor blocks it (requests are keyed per caller)');

-- aggregates for analysts: no identifiable rows, small cells suppressed
select is(pg_temp.as_role('tap_analyst', 'select count(*) from refuge.population_summary() where individuals is not null'), '0',
          'every cell of the fixtures is below 5 and suppressed for analysts');
select is(pg_temp.as_role('tap_analyst', 'select count(*) from refuge.population_summary(min_cell => 1) where individuals is not null'), '0',
          'analysts cannot lower the suppression threshold');
select cmp_ok((select count(*) from refuge.population_summary(min_cell => 1) where individuals is not null), '>', 0::bigint,
          'superusers can');
select is((select sum(individuals)::int from refuge.population_summary(min_cell => 1)), 9,
          'and the counts add up to the active population (3 families of 2, 2 people registered alone, 1 under a reused request id)');
select is(pg_temp.as_role('tap_reg_ken', 'select count(*) from refuge.population_summary()'), '42501',
          'registration staff do not get the statistics function');

select * from finish();
rollback;
