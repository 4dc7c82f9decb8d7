-- Flight legs, documents and specific needs: one validated insert each,
-- used by registration and by the add_* API functions.

-- One flight leg, validated, as a row (seq given by the caller).
create function refuge.flight_leg_row(p_individual uuid, e jsonb, p text, p_seq integer) returns jsonb
    language plpgsql
as $$
declare
    reasons text[];
    d1 date;
    d2 date;
    i integer;
begin
    perform refuge.arg_fields(e, p, array['place', 'country', 'location', 'arrived_on', 'departed_on',
                                          'date_precision', 'reasons', 'comment']);
    d1 := refuge.arg_date(e, 'arrived_on', p);
    d2 := refuge.arg_date(e, 'departed_on', p);
    perform refuge.check_dates(d1, d2, p, 'arrived_on', 'departed_on');
    reasons := '{}';
    for i in 0 .. jsonb_array_length(refuge.arg_array(e, 'reasons', p, 10)) - 1 loop
        reasons := reasons || refuge.arg_code(jsonb_build_object('code', e -> 'reasons' -> i),
                                              'code', format('%s.reasons[%s]', p, i), 'flight_reason', true);
    end loop;
    return jsonb_build_object('id', gen_random_uuid(), 'individual_id', p_individual, 'seq', p_seq,
        'place', refuge.arg_text(e, 'place', p), 'country', refuge.arg_code(e, 'country', p, 'country', true),
        'location', (refuge.arg_point(e, 'location', p))::text, 'arrived_on', d1, 'departed_on', d2,
        'date_precision', refuge.arg_code(e, 'date_precision', p, 'date_precision', false, 'EXACT'),
        'reasons', reasons, 'comment', refuge.arg_text(e, 'comment', p, false, 2000));
end
$$;

-- Add one leg to an existing individual: seq null appends; a given seq
-- inserts there and shifts later legs.
create function refuge.insert_flight_leg(p_individual uuid, e jsonb, p text, p_seq integer) returns uuid
    language plpgsql
as $$
declare
    r jsonb;
    seq integer;
begin
    select coalesce(max(f.seq), 0) + 1 into seq from refuge.flight_leg f where f.individual_id = p_individual;
    r := refuge.flight_leg_row(p_individual, e, p, least(coalesce(p_seq, seq), seq));
    if p_seq is not null and p_seq < seq then
        -- make room: move later legs out of the way, then back one further
        update refuge.flight_leg f set seq = f.seq + 1000000
         where f.individual_id = p_individual and f.seq >= p_seq;
        update refuge.flight_leg f set seq = f.seq - 1000000 + 1
         where f.individual_id = p_individual and f.seq >= 1000000;
    end if;
    perform refuge.insert_rows(refuge.add_row('{}', 'flight_leg', r));
    return (r ->> 'id')::uuid;
end
$$;

-- One document, validated, as a row.  The same document (type, issuer and
-- number ignoring spaces and dashes) already recorded, or twice in this
-- batch, is refused without saying whose it is.
create function refuge.document_row(p_individual uuid, e jsonb, p text, batch jsonb[]) returns jsonb
    language plpgsql
as $$
declare
    dtype text;
    num text;
    issuer text;
    d1 date;
    d2 date;
    k text;
begin
    perform refuge.arg_fields(e, p, array['type', 'number', 'issuing_country', 'issued_on', 'expires_on',
                                          'status', 'original_seen', 'comment']);
    dtype := refuge.arg_code(e, 'type', p, 'document_type', true);
    num := refuge.arg_text(e, 'number', p, true, 60);
    issuer := refuge.arg_code(e, 'issuing_country', p, 'country');
    d1 := refuge.arg_date(e, 'issued_on', p);
    d2 := refuge.arg_date(e, 'expires_on', p, false, false);
    perform refuge.check_dates(d1, d2, p, 'issued_on', 'expires_on');
    if coalesce(e ->> 'status', 'VALID') not in ('VALID', 'EXPIRED', 'LOST', 'CONFISCATED', 'CANCELLED') then
        perform refuge.raise_field('22023', p || '.status', format('unknown status %s', e -> 'status'),
                                   'one of VALID, EXPIRED, LOST, CONFISCATED, CANCELLED');
    end if;
    k := dtype || '/' || coalesce(issuer, '') || '/' || upper(regexp_replace(num, '[\s-]', '', 'g'));
    if exists (select 1 from refuge.document d
                where d.doc_type = dtype and coalesce(d.issuing_country, '') = coalesce(issuer, '')
                  and upper(regexp_replace(d.number, '[\s-]', '', 'g')) = upper(regexp_replace(num, '[\s-]', '', 'g')))
       or exists (select 1 from unnest(batch) b where b @> jsonb_build_object('_t', 'document', '_key', k)) then
        perform refuge.raise_field('23505', p || '.number',
            format('%s %s%s is already recorded', dtype, num, coalesce(' issued by ' || issuer, '')),
            'the document belongs to a registered individual; check for a double registration');
    end if;
    return jsonb_build_object('id', gen_random_uuid(), 'individual_id', p_individual, 'doc_type', dtype,
        'number', num, 'issuing_country', issuer, 'issued_on', d1, 'expires_on', d2,
        'status', coalesce(e ->> 'status', 'VALID'), 'original_seen', refuge.arg_bool(e, 'original_seen', p, false),
        'comment', refuge.arg_text(e, 'comment', p, false, 2000), '_key', k);
end
$$;

create function refuge.insert_document(p_individual uuid, e jsonb, p text) returns uuid
    language plpgsql
as $$
declare
    r jsonb := refuge.document_row(p_individual, e, p, '{}'::jsonb[]);
begin
    perform refuge.insert_rows(refuge.add_row('{}', 'document', r));
    return (r ->> 'id')::uuid;
end
$$;

-- One specific need, validated, as a row.  A need is {"code": "SC-UC"}
-- (category implied), {"category": "SC"}, or the code as a string.  The same
-- need open twice (already, or in this batch) is refused.
create function refuge.specific_need_row(p_individual uuid, e jsonb, p text, p_new boolean, batch jsonb[]) returns jsonb
    language plpgsql
as $$
declare
    v_cat text;
    v_code text;
begin
    if jsonb_typeof(e) = 'string' then
        e := jsonb_build_object('code', e);
    end if;
    perform refuge.arg_fields(e, p, array['category', 'code', 'identified_on', 'comment']);
    v_code := refuge.arg_text(e, 'code', p, false, 20);
    if v_code is not null and v_code !~ '-' then
        -- a bare category given as code
        e := e - 'code' || jsonb_build_object('category', coalesce(e -> 'category', to_jsonb(v_code)));
        v_code := null;
    end if;
    if v_code is not null then
        v_code := refuge.arg_code(e, 'code', p, 'specific_need_code', true);
        select c.category into v_cat from refuge.specific_need_code c where c.code = v_code;
        if e ? 'category' and e ->> 'category' <> v_cat then
            perform refuge.raise_field('22023', p || '.category',
                format('"%s" does not match code %s (category %s)', e ->> 'category', v_code, v_cat));
        end if;
    else
        v_cat := refuge.arg_code(e, 'category', p, 'specific_need_category', true);
    end if;
    if (not p_new and exists (select 1 from refuge.specific_need s
                               where s.individual_id = p_individual and s.active
                                 and s.category = v_cat and coalesce(s.code, '') = coalesce(v_code, '')))
       or exists (select 1 from unnest(batch) b where b @> jsonb_build_object(
              '_t', 'specific_need', 'individual_id', p_individual, 'category', v_cat, 'code', v_code)) then
        perform refuge.raise_field('23505', p, format('%s is already an open specific need of this individual',
                                                      coalesce(v_code, v_cat)));
    end if;
    return jsonb_build_object('id', gen_random_uuid(), 'individual_id', p_individual, 'category', v_cat,
        'code', v_code, 'active', true,
        'identified_on', coalesce(refuge.arg_date(e, 'identified_on', p), current_date),
        'comment', refuge.arg_text(e, 'comment', p, false, 2000));
end
$$;

create function refuge.insert_specific_need(p_individual uuid, e jsonb, p text) returns uuid
    language plpgsql
as $$
declare
    r jsonb := refuge.specific_need_row(p_individual, e, p, false, '{}'::jsonb[]);
begin
    perform refuge.insert_rows(refuge.add_row('{}', 'specific_need', r));
    return (r ->> 'id')::uuid;
end
$$;

-- The individual, locked, after checking that the caller may change it.
create function refuge.individual_for_update(p_individual uuid, p_role name, p_action text)
    returns refuge.individual
    language plpgsql
as $$
declare
    r refuge.individual;
begin
    perform refuge.authorize(p_role, p_action);
    if p_individual is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    select * into r from refuge.individual i where i.id = p_individual for update;
    if not found or not refuge.in_scope(r.operation_id, r.site_id) then
        perform refuge.raise_field('P0002', 'individual_id', format('no individual %s in your operations', p_individual));
    end if;
    return r;
end
$$;

create function refuge.add_flight_leg(individual_id uuid, leg jsonb, seq integer default null) returns uuid
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
begin
    perform refuge.individual_for_update(individual_id, 'refuge_registration', 'add_flight_leg');
    if seq is not null and seq < 1 then
        perform refuge.raise_field('22023', 'seq', format('%s is not a position (1 or more)', seq));
    end if;
    return refuge.insert_flight_leg(individual_id, leg, 'leg', seq);
end
$$;

create function refuge.add_document(individual_id uuid, document jsonb) returns uuid
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
begin
    perform refuge.individual_for_update(individual_id, 'refuge_registration', 'add_document');
    return refuge.insert_document(individual_id, document, 'document');
end
$$;

create function refuge.set_document_status(document_id uuid, status text) returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ind uuid;
begin
    select d.individual_id into ind from refuge.document d where d.id = document_id;
    if ind is null then
        perform refuge.raise_field('P0002', 'document_id', format('no document %s', document_id));
    end if;
    perform refuge.individual_for_update(ind, 'refuge_registration', 'set_document_status');
    if status is null or status not in ('VALID', 'EXPIRED', 'LOST', 'CONFISCATED', 'CANCELLED') then
        perform refuge.raise_field('22023', 'status', format('unknown status %s', coalesce(quote_literal(status), 'null')),
                                   'one of VALID, EXPIRED, LOST, CONFISCATED, CANCELLED');
    end if;
    update refuge.document d set status = set_document_status.status where d.id = document_id;
end
$$;

create function refuge.add_specific_need(individual_id uuid, need jsonb) returns uuid
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
begin
    perform refuge.individual_for_update(individual_id, 'refuge_registration', 'add_specific_need');
    return refuge.insert_specific_need(individual_id, need, 'need');
end
$$;

-- Close an open need; the row stays as history.
create function refuge.close_specific_need(need_id uuid, reason text, closed_on date default current_date)
    returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    n refuge.specific_need;
begin
    select * into n from refuge.specific_need s where s.id = need_id;
    if not found then
        perform refuge.raise_field('P0002', 'need_id', format('no specific need %s', need_id));
    end if;
    perform refuge.individual_for_update(n.individual_id, 'refuge_registration', 'close_specific_need');
    if not n.active then
        perform refuge.raise_field('22023', 'need_id', format('specific need %s was already closed on %s', need_id, refuge.iso(n.closed_on)));
    end if;
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required');
    end if;
    if closed_on is null or closed_on > current_date or closed_on < n.identified_on then
        perform refuge.raise_field('22008', 'closed_on',
            format('%s must be between the identification date %s and today', coalesce(refuge.iso(closed_on), 'null'), refuge.iso(n.identified_on)));
    end if;
    update refuge.specific_need s
       set active = false, closed_on = close_specific_need.closed_on, close_reason = btrim(reason)
     where s.id = need_id;
end
$$;
