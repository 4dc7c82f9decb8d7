-- Identity and civil documents, and references to photographs.  Photo
-- images themselves are not stored here (biometric images go to the HQ vault).

create table refuge.document (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    doc_type        text not null,
    number          text not null check (length(number) between 1 and 60),
    issuing_country text,
    issued_on       date,
    expires_on      date,
    status          text not null default 'VALID'
                    check (status in ('VALID', 'EXPIRED', 'LOST', 'CONFISCATED', 'CANCELLED')),
    original_seen   boolean not null default false,
    comment         text,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    check (expires_on is null or issued_on is null or expires_on >= issued_on)
);
create index on refuge.document (individual_id);
-- One document is one person's: the same number from the same issuer twice is
-- a double registration (the API reports it without naming the other person).
create unique index document_identity on refuge.document
    (doc_type, coalesce(issuing_country, ''), upper(regexp_replace(number, '[\s-]', '', 'g')));

create table refuge.photo (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    uri             text not null,
    sha256          bytea check (sha256 is null or length(sha256) = 32),
    content_type    text check (content_type in ('image/jpeg', 'image/png', 'image/jp2')),
    taken_at        timestamptz,
    is_current      boolean not null default true,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user
);
create index on refuge.photo (individual_id);
create unique index photo_one_current on refuge.photo (individual_id) where is_current;
