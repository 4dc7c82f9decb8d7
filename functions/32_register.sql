-- Registering families and people, and updating biodata.

-- Fields a member object may carry.
create function refuge.member_fields() returns text[]
    language sql immutable parallel safe
begin atomic
    select array['ref', 'relationship', 'given_name', 'middle_name', 'family_name', 'second_family_name',
                 'maiden_name', 'mother_name', 'father_name', 'sex', 'date_of_birth', 'dob_precision',
                 'place_of_birth', 'birth_country', 'origin_country', 'ethnicity', 'religion', 'marital_status',
                 'education_level', 'population_type', 'registration_level', 'arrival_date', 'names',
                 'nationalities', 'languages', 'education', 'occupations', 'contacts', 'addresses',
                 'flight_legs', 'documents', 'photo', 'specific_needs'];
end;

-- Validate one member of a group and append its rows (individual,
-- membership, collections) to rows.  defaults carries the group-level values
-- (population type, registration level, origin, arrival date, and the flight
-- legs and addresses shared by members that give none of their own).
-- The member's entry for the API result is a row of table "_result".
create function refuge.member_rows(p_group uuid, p_operation uuid, p_site uuid, m jsonb, path text,
                                   defaults jsonb, p_number text, p_reason text, rows jsonb[]) returns jsonb[]
    language plpgsql
as $$
declare
    r refuge.individual;
    rel text;
    shared jsonb;
begin
    perform refuge.arg_fields(m, path, refuge.member_fields());
    rel := refuge.arg_code(m, 'relationship', path, 'relationship', true);
    perform refuge.arg_text(m, 'ref', path, false, 50);
    r := refuge.parse_individual((defaults - array['flight_legs', 'addresses', 'registration_date']) || m, path);
    r.id := gen_random_uuid();
    r.number := p_number;
    r.operation_id := p_operation;
    r.site_id := p_site;
    r.registration_date := coalesce((defaults ->> 'registration_date')::date, current_date);
    r.population_type_date := r.registration_date;
    r.status := 'ACTIVE';
    r.status_date := r.registration_date;
    rows := rows || (to_jsonb(r) || jsonb_build_object('_t', 'individual'));
    rows := rows || (jsonb_build_object('id', gen_random_uuid(), 'group_id', p_group,
                'individual_id', r.id, 'relationship', rel, 'valid_from', now(), 'start_reason', p_reason) || jsonb_build_object('_t', 'group_membership'));
    rows := refuge.collection_rows(r.id, m, path, true, rows);
    shared := jsonb_strip_nulls(jsonb_build_object(
        'flight_legs', case when not m ? 'flight_legs' then defaults -> 'flight_legs' end,
        'addresses', case when not m ? 'addresses' then defaults -> 'addresses' end));
    if shared <> '{}' then
        rows := refuge.collection_rows(r.id, shared, 'payload', true, rows);
    end if;
    return rows || (jsonb_build_object('ref', m -> 'ref', 'individual_id', r.id,
                                                              'number', p_number, 'relationship', rel) || jsonb_build_object('_t', '_result'));
end
$$;

-- Claim a request id; returns the stored result when the request was
-- already carried out (same caller, same payload), null when it is new.
create function refuge.claim_request(p_request uuid, p_function text, p_payload jsonb) returns jsonb
    language plpgsql
as $$
declare
    h bytea := sha256(convert_to(p_payload::text, 'UTF8'));
    prior refuge.api_request;
begin
    if p_request is null then
        return null;
    end if;
    -- a concurrent twin waits here until the first commits or aborts
    insert into refuge.api_request (request_id, function_name, caller, payload_hash, result)
    values (p_request, p_function, refuge.caller(), h, '{}')
    on conflict (request_id) do nothing;
    if found then
        return null;
    end if;
    select * into prior from refuge.api_request a where a.request_id = p_request;
    if prior.function_name <> p_function or prior.caller <> refuge.caller() or prior.payload_hash <> h then
        perform refuge.raise_field('23505', 'request_id',
            format('%s was already used for a different request', p_request),
            'use a new request id for a new request; repeat the same payload to retry');
    end if;
    return prior.result || '{"replayed": true}';
end
$$;

create function refuge.finish_request(p_request uuid, p_result jsonb) returns jsonb
    language plpgsql
as $$
begin
    if p_request is not null then
        update refuge.api_request a set result = p_result where a.request_id = p_request;
    end if;
    return p_result || '{"replayed": false}';
end
$$;

-- Register a whole family in one call.  See README "register_group" for the
-- shape of the payload.  Idempotent on payload.request_id.
create function refuge.register_group(payload jsonb) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    req uuid;
    prior jsonb;
    op_id uuid;
    site_id uuid;
    members jsonb;
    n integer;
    principals integer;
    defaults jsonb;
    numbers text[];
    gid uuid;
    results jsonb;
    rows jsonb[];
    reg_date date;
    arrival date;
    i integer;
begin
    perform refuge.authorize('refuge_registration', 'register_group');
    perform refuge.arg_fields(payload, 'payload', array['request_id', 'operation', 'site', 'registration_date',
        'arrival_date', 'registration_level', 'population_type', 'origin_country', 'flight_legs', 'addresses',
        'members']);
    req := refuge.arg_uuid(payload, 'request_id', 'payload');
    select o.id into op_id from refuge.operation o
     where o.code = refuge.arg_text(payload, 'operation', 'payload', true, 10) and o.active;
    if op_id is null then
        perform refuge.raise_field('23503', 'payload.operation', format('unknown operation %s', payload -> 'operation'));
    end if;
    select s.id into site_id from refuge.site s
     where s.operation_id = op_id and s.code = refuge.arg_text(payload, 'site', 'payload', true, 20) and s.active;
    if site_id is null then
        perform refuge.raise_field('23503', 'payload.site',
            format('unknown site %s in operation %s', payload -> 'site', payload ->> 'operation'));
    end if;
    perform refuge.authorize('refuge_registration', 'register_group', op_id, site_id);

    prior := refuge.claim_request(req, 'register_group', payload);
    if prior is not null then
        return prior;
    end if;

    members := refuge.arg_array(payload, 'members', 'payload', 100);
    n := jsonb_array_length(members);
    if n = 0 then
        perform refuge.raise_field('22004', 'payload.members', 'at least one member is required');
    end if;
    for i in 0 .. n - 1 loop
        if jsonb_typeof(members -> i) <> 'object' then
            perform refuge.raise_field('22023', format('payload.members[%s]', i),
                                       format('expected an object, got %s', jsonb_typeof(members -> i)));
        end if;
    end loop;
    select count(*) into principals from jsonb_array_elements(members) m where m ->> 'relationship' = 'PA';
    if principals <> 1 then
        perform refuge.raise_field('23514', 'payload.members',
            format('a group needs exactly one principal representative (relationship "PA"); found %s', principals));
    end if;

    reg_date := coalesce(refuge.arg_date(payload, 'registration_date', 'payload'), current_date);
    arrival := refuge.arg_date(payload, 'arrival_date', 'payload');
    defaults := jsonb_strip_nulls(jsonb_build_object(
        'registration_level', refuge.arg_code(payload, 'registration_level', 'payload', 'registration_level'),
        'population_type', refuge.arg_code(payload, 'population_type', 'payload', 'population_type'),
        'origin_country', refuge.arg_code(payload, 'origin_country', 'payload', 'country'),
        'arrival_date', arrival,
        'registration_date', reg_date,
        'flight_legs', case when payload ? 'flight_legs' then refuge.arg_array(payload, 'flight_legs', 'payload', 50) end,
        'addresses', case when payload ? 'addresses' then refuge.arg_array(payload, 'addresses', 'payload', 30) end));

    numbers := refuge.next_numbers(op_id, n + 1);
    gid := gen_random_uuid();
    rows := refuge.add_row('{}', 'registration_group', jsonb_build_object(
        'id', gid, 'number', numbers[1], 'operation_id', op_id, 'site_id', site_id, 'status', 'ACTIVE',
        'status_date', reg_date, 'registration_date', reg_date, 'arrival_date', arrival, 'request_id', req));
    for i in 0 .. n - 1 loop
        rows := refuge.member_rows(gid, op_id, site_id, members -> i, format('payload.members[%s]', i), defaults,
                                   numbers[i + 2], 'REGISTRATION', rows);
    end loop;
    -- everything validated: write the family, one statement per table
    perform refuge.insert_rows(rows);
    results := (select jsonb_agg(x.r - '_t' order by x.ord) from unnest(rows) with ordinality x(r, ord)
                 where x.r ->> '_t' = '_result');
    return refuge.finish_request(req, jsonb_build_object(
        'request_id', req, 'group_id', gid, 'group_number', numbers[1], 'members', results));
end
$$;

-- Add a person to an existing group (a birth, a late arrival).  The member
-- object is the same as in register_group; relationship PA is refused while
-- the group has a principal representative.
create function refuge.add_individual(group_id uuid, member jsonb, request_id uuid default null) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    g refuge.registration_group;
    prior jsonb;
    defaults jsonb;
    num text;
    rows jsonb[];
begin
    perform refuge.authorize('refuge_registration', 'add_individual');
    select * into g from refuge.registration_group rg where rg.id = add_individual.group_id for update;
    if not found or not refuge.in_scope(g.operation_id, g.site_id) then
        perform refuge.raise_field('P0002', 'group_id', format('no registration group %s in your operations', group_id));
    end if;
    if g.status <> 'ACTIVE' then
        perform refuge.raise_field('22023', 'group_id', format('group %s is %s', g.number, g.status));
    end if;
    prior := refuge.claim_request(request_id, 'add_individual',
                                  jsonb_build_object('group_id', group_id, 'member', member));
    if prior is not null then
        return prior;
    end if;
    if jsonb_typeof(member) is distinct from 'object' then
        perform refuge.raise_field('22023', 'member', format('expected an object, got %s', coalesce(jsonb_typeof(member), 'null')));
    end if;
    if member ->> 'relationship' = 'PA' and exists (
        select 1 from refuge.group_membership gm
         where gm.group_id = g.id and gm.valid_to is null and gm.relationship = 'PA') then
        perform refuge.raise_field('23514', 'member.relationship', format('group %s already has a principal representative', g.number));
    end if;
    -- the group's principal representative supplies the defaults
    select jsonb_strip_nulls(jsonb_build_object('registration_level', i.registration_level,
               'population_type', i.population_type, 'origin_country', i.origin_country))
      into defaults
      from refuge.group_membership gm join refuge.individual i on i.id = gm.individual_id
     where gm.group_id = g.id and gm.valid_to is null
     order by gm.relationship = 'PA' desc
     limit 1;
    num := (refuge.next_numbers(g.operation_id, 1))[1];
    rows := refuge.member_rows(g.id, g.operation_id, g.site_id, member, 'member', coalesce(defaults, '{}'), num,
                               'ADDITION', '{}');
    perform refuge.insert_rows(rows);
    return refuge.finish_request(request_id, (select r - '_t' from unnest(rows) r where r ->> '_t' = '_result')
                                             || jsonb_build_object('group_id', g.id));
end
$$;

-- Change biodata.  Scalar fields present in changes are set (null clears an
-- optional field); collections present (names, nationalities, languages,
-- education, occupations, contacts, addresses, flight_legs) replace the
-- person's; photo records a new current photo; status changes the status.
create function refuge.update_individual(individual_id uuid, changes jsonb) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cur refuge.individual;
    r refuge.individual;
    scalars jsonb;
    collections constant text[] := array['names', 'nationalities', 'languages', 'education', 'occupations',
                                         'contacts', 'addresses', 'flight_legs', 'photo'];
begin
    cur := refuge.individual_for_update(individual_id, 'refuge_registration', 'update_individual');
    perform refuge.arg_fields(changes, 'changes',
        (select array_agg(f) from unnest(refuge.member_fields()) f
          where f not in ('ref', 'relationship', 'documents', 'specific_needs'))
        || array['status', 'status_reason']);
    scalars := changes - collections - array['status', 'status_reason'];
    r := refuge.parse_individual(to_jsonb(cur) || scalars, 'changes');
    if changes ? 'status' then
        cur.status := refuge.arg_code(changes, 'status', 'changes', 'individual_status', true);
        cur.status_date := current_date;
        cur.status_reason := refuge.arg_text(changes, 'status_reason', 'changes', false, 500);
    end if;
    update refuge.individual i set
        given_name = r.given_name, middle_name = r.middle_name, family_name = r.family_name,
        second_family_name = r.second_family_name, maiden_name = r.maiden_name,
        mother_name = r.mother_name, father_name = r.father_name, sex = r.sex,
        date_of_birth = r.date_of_birth, dob_precision = r.dob_precision, place_of_birth = r.place_of_birth,
        birth_country = r.birth_country, origin_country = r.origin_country, ethnicity = r.ethnicity,
        religion = r.religion, marital_status = r.marital_status, education_level = r.education_level,
        population_type = r.population_type,
        population_type_date = case when r.population_type <> cur.population_type then current_date
                                    else cur.population_type_date end,
        registration_level = r.registration_level, arrival_date = r.arrival_date,
        status = cur.status, status_date = cur.status_date, status_reason = cur.status_reason
     where i.id = cur.id;
    perform refuge.write_collections(cur.id, changes, 'changes');
    return jsonb_build_object('individual_id', cur.id, 'number', cur.number,
                              'fields', (select jsonb_agg(k order by k) from jsonb_object_keys(changes) k));
end
$$;
