-- Relatives outside the registration group (table: sql/79_relatives.sql).

-- The row of a relative from its JSON form (the fields of add_relative and
-- of the eRRF import), checked field by field.
create function refuge.relative_row(p_individual uuid, r jsonb, path text) returns refuge.individual_relative
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    x refuge.individual_relative;
begin
    if jsonb_typeof(r) is distinct from 'object' then
        perform refuge.raise_field('22023', path, format('expected an object, got %s', coalesce(jsonb_typeof(r), 'null')));
    end if;
    perform refuge.arg_fields(r, path, array['relationship', 'given_name', 'middle_name', 'family_name',
        'second_family_name', 'maiden_name', 'sex', 'date_of_birth', 'dob_estimated', 'birth_country', 'place_of_birth',
        'residence_country', 'nationality', 'marital_status', 'deceased', 'deceased_on']);
    x.id := gen_random_uuid();
    x.individual_id := p_individual;
    x.relationship := refuge.arg_code(r, 'relationship', path, 'relationship', true);
    x.given_name := refuge.arg_name(r, 'given_name', path, false, 100);
    x.middle_name := refuge.arg_name(r, 'middle_name', path, false, 100);
    x.family_name := refuge.arg_name(r, 'family_name', path, false, 100);
    x.second_family_name := refuge.arg_name(r, 'second_family_name', path, false, 100);
    x.maiden_name := refuge.arg_name(r, 'maiden_name', path, false, 100);
    if x.given_name is null and x.family_name is null then
        perform refuge.raise_field('22004', path || '.given_name', 'a given name or a family name is required');
    end if;
    x.sex := refuge.arg_code(r, 'sex', path, 'sex');
    x.date_of_birth := refuge.arg_date(r, 'date_of_birth', path);
    x.dob_estimated := coalesce(refuge.arg_bool(r, 'dob_estimated', path), false);
    x.birth_country := refuge.arg_code(r, 'birth_country', path, 'country');
    x.place_of_birth := refuge.arg_text(r, 'place_of_birth', path, false, 200);
    x.residence_country := refuge.arg_code(r, 'residence_country', path, 'country');
    x.nationality := refuge.arg_code(r, 'nationality', path, 'country');
    x.marital_status := refuge.arg_code(r, 'marital_status', path, 'marital_status');
    x.deceased := coalesce(refuge.arg_bool(r, 'deceased', path), false);
    x.deceased_on := refuge.arg_date(r, 'deceased_on', path);
    if x.deceased_on is not null and not x.deceased then
        perform refuge.raise_field('22023', path || '.deceased_on', 'is given only for a deceased relative');
    end if;
    if x.date_of_birth is not null and x.date_of_birth < date '1880-01-01' then
        perform refuge.raise_field('22008', path || '.date_of_birth', 'is before 1880');
    end if;
    return x;
end
$$;
comment on function refuge.relative_row(uuid, jsonb, text) is 'internal: a relative''s row from its JSON form, checked';

-- Write a checked relative (from refuge.relative_row).
create function refuge.insert_relative(x refuge.individual_relative) returns uuid
    language sql volatile
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    insert into refuge.individual_relative (id, individual_id, relationship, given_name, middle_name, family_name,
        second_family_name, maiden_name, sex, date_of_birth, dob_estimated, birth_country, place_of_birth,
        residence_country, nationality, marital_status, deceased, deceased_on)
    values (x.id, x.individual_id, x.relationship, x.given_name, x.middle_name, x.family_name, x.second_family_name,
            x.maiden_name, x.sex, x.date_of_birth, x.dob_estimated, x.birth_country, x.place_of_birth,
            x.residence_country, x.nationality, x.marital_status, x.deceased, x.deceased_on)
    returning id;
end;
comment on function refuge.insert_relative(refuge.individual_relative) is
    'internal: write a relative checked by refuge.relative_row';

create function refuge.add_relative(individual_id uuid, relative jsonb) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.individual_for_update(add_relative.individual_id, 'refuge_registration', 'add_relative');
    if (select count(*) from refuge.individual_relative r where r.individual_id = add_relative.individual_id) >= 100 then
        perform refuge.raise_field('54000', 'relative', 'a person has at most 100 relatives recorded');
    end if;
    return refuge.insert_relative(refuge.relative_row(add_relative.individual_id, relative, 'relative'));
end
$$;
comment on function refuge.add_relative(uuid, jsonb) is
    'record a relative who is not registered with the person (relationship, names, sex, date_of_birth, dob_estimated, birth_country, place_of_birth, residence_country, nationality, marital_status, deceased, deceased_on)';
grant execute on function refuge.add_relative(uuid, jsonb) to refuge_registration;

create function refuge.remove_relative(relative_id uuid, reason text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    x refuge.individual_relative;
begin
    perform refuge.require_text(reason, 'reason');
    perform refuge.authorize('refuge_registration', 'remove_relative');
    -- the same answer whether the row is elsewhere or nowhere
    select r.* into x from refuge.individual_relative r join refuge.individual i on i.id = r.individual_id
     where r.id = remove_relative.relative_id and refuge.in_scope(i.operation_id, i.site_id);
    if not found then
        perform refuge.raise_field('P0002', 'relative_id', 'not found in your operations');
    end if;
    perform refuge.individual_for_update(x.individual_id, 'refuge_registration', 'remove_relative');
    -- the audit trail keeps the row
    delete from refuge.individual_relative r where r.id = x.id;
end
$$;
comment on function refuge.remove_relative(uuid, text) is 'remove a relative recorded in error (the audit trail keeps the row)';
grant execute on function refuge.remove_relative(uuid, text) to refuge_registration;
