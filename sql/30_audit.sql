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

-- Who/when columns, set from the calling role whatever the statement said
-- (extension/audit.c).  Stands down while a dump is restored.
create function refuge.stamp_row() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_stamp_row';

-- One audit row per written row: the values of an insert or delete, the
-- changed columns (old and new) of an update.  tg_argv[0] says how to find
-- the operation a row belongs to: 'self' (its operation_id), 'individual'
-- (through individual_id), 'none' (configuration).  Written in C because it
-- runs for every row the API writes (extension/audit.c).
create function refuge.audit_row() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_audit_row';

-- The row trigger collects; this statement trigger writes the statement's
-- audit rows with one insert (a transaction that would commit with audit rows
-- collected but unwritten is refused).
create function refuge.audit_flush() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_audit_flush';

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
        execute format('create trigger audit_flush after insert or update or delete on refuge.%I
                        for each statement execute function refuge.audit_flush()', t.tab);
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
        execute format('create trigger audit_flush after insert or update or delete on refuge.%I
                        for each statement execute function refuge.audit_flush()', t);
    end loop;
end
$vocab$;
