-- Specific needs: UNHCR category + sub-code per individual.  A need is never
-- deleted: closing it sets active = false with the date and reason.

create table refuge.specific_need (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    category        text not null,
    code            text,
    active          boolean not null default true,
    identified_on   date not null default current_date,
    closed_on       date,
    close_reason    text,
    comment         text,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    check (closed_on is null or closed_on >= identified_on),
    check (active = (closed_on is null)),
    check (code is null or code like category || '-%')
);
create index on refuge.specific_need (individual_id);
-- the same need is open at most once per person
create unique index specific_need_one_open
    on refuge.specific_need (individual_id, category, coalesce(code, '')) where active;
