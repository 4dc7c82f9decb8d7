-- Documents issued to refugees: proof of registration, refugee ID card and
-- attestation, each with a QR code that carries a payload signed with the
-- operation's Ed25519 key (extension/document_key.c), so that a checker
-- holding only the public key verifies it offline.  The functions are
-- functions/95_documents.sql.

create function refuge.document_sign(operation text, message bytea) returns bytea
    language c volatile strict
    as 'MODULE_PATHNAME', 'refuge_document_sign';
comment on function refuge.document_sign(text, bytea) is
    'internal: the Ed25519 signature of a message under the operation''s key (refuge.document_key_dir); no role may call it';
create function refuge.document_public_key(operation text) returns bytea
    language c volatile strict
    as 'MODULE_PATHNAME', 'refuge_document_public_key';
comment on function refuge.document_public_key(text) is
    'internal: the 32-byte Ed25519 public key of the operation''s signing key file';
create function refuge.ed25519_verify(public_key bytea, message bytea, signature bytea) returns boolean
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_ed25519_verify';
comment on function refuge.ed25519_verify(bytea, bytea, bytea) is
    'whether signature is the Ed25519 signature of message under public_key (32 bytes)';

-- The kinds of document, their validity and who may hold them.
create table refuge.document_kind (
    code              text primary key,
    label             text not null,
    serial_prefix     text not null unique check (serial_prefix ~ '^[A-Z]{2}$'),
    validity          interval not null check (validity > interval '0'),
    population_types  text[],
    layout            text not null check (layout in ('CARD', 'A4')),
    min_age           integer not null default 0,
    shipped           boolean not null default false
);
comment on table refuge.document_kind is
    'kinds of document issued to refugees: validity, the population types entitled (null: any), the layout, the minimum age';
create policy read_all on refuge.document_kind for select
    to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.document_kind to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.document_kind', 'where not shipped');
insert into refuge.document_kind (code, label, serial_prefix, validity, population_types, layout, min_age, shipped) values
  ('PROOF_OF_REGISTRATION', 'Proof of registration', 'PR', interval '1 year', null, 'A4', 0, true),
  ('REFUGEE_ID', 'Refugee identity card', 'ID', interval '5 years', '{REF}', 'CARD', 12, true),
  ('ATTESTATION', 'Attestation', 'AT', interval '6 months', null, 'A4', 0, true);

-- Public keys of the operations' signing keys: what a verifier trusts.
-- key_id is the start of SHA-256 of the key (16 hex digits), carried in
-- every payload.  A RETIRED key signs nothing new but still verifies what it
-- signed; a REVOKED key (compromised) verifies nothing.
create table refuge.document_key (
    key_id         text primary key check (key_id ~ '^[0-9a-f]{16}$'),
    operation_id   uuid not null references refuge.operation,
    public_key     bytea not null unique check (length(public_key) = 32),
    status         text not null default 'ACTIVE' check (status in ('ACTIVE', 'RETIRED', 'REVOKED')),
    registered_at  timestamptz not null default now(),
    registered_by  name not null default current_user,
    retired_at     timestamptz
);
create unique index document_key_one_active on refuge.document_key (operation_id) where status = 'ACTIVE';
comment on table refuge.document_key is
    'public keys that sign the operations'' documents (refuge.register_document_key); retired keys still verify, revoked keys do not';
create policy read_all on refuge.document_key for select
    to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.document_key to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.document_key', '');

create sequence refuge.document_serial_seq;
select pg_catalog.pg_extension_config_dump('refuge.document_serial_seq', '');

-- Every document issued, with the exact payload its QR code carries.
create table refuge.issued_document (
    id             uuid primary key default gen_random_uuid(),
    serial         text not null unique,
    kind           text not null references refuge.document_kind,
    individual_id  uuid not null references refuge.individual,
    operation_id   uuid not null references refuge.operation,
    site_id        uuid not null,
    valid_from     date not null,
    valid_to       date not null,
    key_id         text not null references refuge.document_key,
    payload        text not null,
    photo_digest   text,
    status         text not null default 'VALID' check (status in ('VALID', 'REPLACED', 'LOST', 'REVOKED')),
    status_reason  text,
    replaces       uuid references refuge.issued_document,
    issued_at      timestamptz not null default now(),
    issued_by      name not null default current_user,
    ended_at       timestamptz,
    ended_by       name,
    created_at     timestamptz not null default now(),
    created_by     name not null default current_user,
    updated_at     timestamptz not null default now(),
    updated_by     name not null default current_user,
    sync_owner     text not null default refuge.local_node(),
    foreign key (operation_id, site_id) references refuge.site (operation_id, id),
    check (valid_to > valid_from),
    check ((status = 'VALID') = (ended_at is null))
);
create index on refuge.issued_document (individual_id);
create unique index issued_document_one_valid on refuge.issued_document (individual_id, kind) where status = 'VALID';
comment on table refuge.issued_document is
    'documents issued to refugees: serial, validity, the signed QR payload, and replacement, loss or revocation';
comment on column refuge.issued_document.payload is 'the text the QR code carries: RF1.<body>.<signature> (README, Documents)';
alter table refuge.issued_document replica identity full;
create policy staff_read on refuge.issued_document for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
grant select on refuge.issued_document to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.issued_document', '');

insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('issued_document', 'personal', true, true, 'operation_id', null, null, false),
    ('document_kind', 'reference', false, true, null, null, null, false),
    ('document_key', 'reference', false, true, null, null, null, false);
alter table refuge.document_kind replica identity full;
alter table refuge.document_key replica identity full;
insert into refuge.audit_scope (table_name, class) values
    ('issued_document', 'registration'), ('document_kind', 'config'), ('document_key', 'config');
