-- Audit trail and idempotent API requests.
--
-- Every write to registration data is recorded here by trigger, in the same
-- transaction, with the caller (refuge.caller(), not the definer), the time
-- and the old and new values.  Rows are only ever inserted.

create table refuge.audit_log (
    id            bigint generated always as identity primary key,
    at            timestamptz not null default now(),
    txid          bigint not null default txid_current(),
    actor         name not null,
    operation_id  uuid,
    table_name    text not null,
    row_id        uuid,
    action        char(1) not null check (action in ('I', 'U', 'D')),
    old_data      jsonb,
    new_data      jsonb
);
create index on refuge.audit_log (table_name, row_id);
create index on refuge.audit_log (operation_id, at);
comment on table refuge.audit_log is 'append-only record of every change to refuge data: who, when, old and new values (changed columns only for updates)';

-- A retried API call with the same request_id returns the first result.
create table refuge.api_request (
    request_id    uuid primary key,
    function_name text not null,
    caller        name not null,
    payload_hash  bytea not null,
    result        jsonb not null,
    created_at    timestamptz not null default now()
);

-- Row-stamping and audit triggers stand down while pg_dump/pg_restore load
-- data (their scripts run with row_security = off): restored rows keep their
-- original who/when and are not audited a second time.  API calls cannot run
-- with row_security off, because refuge_owner is subject to FORCE RLS.
create function refuge.restoring() returns boolean
    language sql stable parallel safe
begin atomic
    select current_setting('row_security') = 'off';
end;

-- Keep who/when columns honest whatever path wrote the row.
create function refuge.stamp_row() returns trigger
    language plpgsql
as $$
begin
    if refuge.restoring() then
        return new;
    end if;
    if tg_op = 'INSERT' then
        new.created_at := pg_catalog.now();
        new.created_by := refuge.caller();
    else
        new.created_at := old.created_at;
        new.created_by := old.created_by;
    end if;
    new.updated_at := pg_catalog.now();
    new.updated_by := refuge.caller();
    return new;
end
$$;

-- tg_argv[0] says how to find the operation a row belongs to:
-- 'self' (the row has operation_id), 'individual' (via individual_id),
-- 'none' (configuration without an operation).
-- One audit row per written row; updates keep the changed columns only.
-- (Row-level on purpose: a statement-level trigger over a transition table is
-- re-planned on every call and cost more for the API's one-row statements.)
create function refuge.audit_row() returns trigger
    language plpgsql
as $$
declare
    rowj    jsonb;
    newj    jsonb;
    oldj    jsonb;
    op      uuid;
    skip    constant text[] := array['created_at', 'created_by', 'updated_at', 'updated_by'];
begin
    if refuge.restoring() then
        return null;
    end if;
    if tg_op = 'INSERT' then
        rowj := to_jsonb(new);
        newj := rowj - skip;
    elsif tg_op = 'DELETE' then
        rowj := to_jsonb(old);
        oldj := rowj - skip;
    else
        rowj := to_jsonb(new);
        -- keep only what changed
        select jsonb_object_agg(n.key, n.value), jsonb_object_agg(n.key, o.value)
          into newj, oldj
          from jsonb_each(rowj - skip) n
          join jsonb_each(to_jsonb(old) - skip) o using (key)
         where n.value is distinct from o.value;
        if newj is null then
            return null;
        end if;
    end if;
    if tg_argv[0] = 'self' then
        op := (rowj ->> 'operation_id')::uuid;
    elsif tg_argv[0] = 'individual' then
        select i.operation_id into op from refuge.individual i where i.id = (rowj ->> 'individual_id')::uuid;
    end if;
    insert into refuge.audit_log (actor, operation_id, table_name, row_id, action, old_data, new_data)
    values (refuge.caller(), op, tg_table_name, (rowj ->> 'id')::uuid, left(tg_op, 1), oldj, newj);
    return null;
end
$$;

-- Attach stamping and audit triggers to every data table.
do $attach$
declare
    t record;
begin
    for t in
        select * from (values
            ('operation', 'self'), ('site', 'self'), ('staff', 'none'), ('staff_assignment', 'self'),
            ('registration_group', 'self'), ('individual', 'self'),
            ('group_membership', 'individual'), ('individual_name', 'individual'),
            ('individual_nationality', 'individual'), ('individual_language', 'individual'),
            ('individual_education', 'individual'), ('individual_occupation', 'individual'),
            ('individual_contact', 'individual'), ('individual_address', 'individual'),
            ('flight_leg', 'individual'), ('document', 'individual'), ('photo', 'individual'),
            ('specific_need', 'individual')) as v(tab, how)
    loop
        execute format('create trigger stamp before insert or update on refuge.%I
                        for each row execute function refuge.stamp_row()', t.tab);
        execute format('create trigger audit after insert or update or delete on refuge.%I
                        for each row execute function refuge.audit_row(%L)', t.tab, t.how);
    end loop;
end
$attach$;

-- Vocabulary edits (local codes) are audited too.
do $vocab$
declare
    t text;
begin
    foreach t in array array['country', 'language', 'script', 'sex', 'relationship', 'marital_status',
        'education_level', 'education_degree', 'address_type', 'language_proficiency', 'religion',
        'ethnicity', 'occupation', 'population_type', 'age_bracket', 'specific_need_category',
        'specific_need_code', 'registration_level', 'date_precision', 'document_type',
        'flight_reason', 'contact_type', 'individual_status', 'group_status', 'site_type']
    loop
        execute format('create trigger audit after insert or update or delete on refuge.%I
                        for each row execute function refuge.audit_row(%L)', t, 'none');
    end loop;
end
$vocab$;
