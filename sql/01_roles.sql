-- The group roles.  Roles are cluster-wide: they are created when missing
-- and survive DROP EXTENSION (other databases of the cluster may use them).
-- Staff log in with their own roles, members of these; functions test
-- membership with pg_has_role(..., 'MEMBER'), so NOINHERIT is safe.
do $roles$
declare
    r text;
begin
    foreach r in array array['refuge_owner', 'refuge_registration', 'refuge_supervisor', 'refuge_analyst', 'refuge_admin',
                             'refuge_biometrics', 'refuge_biometrics_admin', 'refuge_assistance', 'refuge_rsd',
                             'refuge_resettlement', 'refuge_protection', 'refuge_child_protection', 'refuge_partner',
                             'refuge_dba', 'refuge_gallery_reader']
    loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
            execute pg_catalog.format('create role %I nologin', r);
        end if;
    end loop;
end
$roles$;

-- refuge_owner owns every table and SECURITY DEFINER function; it never logs in.
alter role refuge_owner nologin nosuperuser nocreatedb nocreaterole noreplication nobypassrls;

comment on role refuge_owner is 'refuge: owns tables and SECURITY DEFINER API functions; never logs in';
comment on role refuge_registration is 'refuge: registration staff (register families, update biodata, needs, documents)';
comment on role refuge_supervisor is 'refuge: registration supervisors (as registration, plus group splits/merges, audit trail of their operations)';
comment on role refuge_analyst is 'refuge: analysts (vocabularies, operations, aggregate statistics; nothing identifiable)';
comment on role refuge_admin is 'refuge: administrators (operations, sites, staff mapping, local codes; no personal data)';
comment on role refuge_biometrics is 'refuge: biometric enrolment operators (enrol, verify; enrolment status in their operations; no templates)';
comment on role refuge_biometrics_admin is 'refuge: HQ biometrics administrators (adjudication, templates, vault images with logged decryption; all operations)';
comment on role refuge_assistance is 'refuge: assistance staff (plans, cycles, distributions, verified collection in their operations)';
comment on role refuge_rsd is 'refuge: RSD eligibility officers (RSD cases of their operations)';
comment on role refuge_resettlement is 'refuge: resettlement officers (resettlement cases of their operations)';
comment on role refuge_protection is 'refuge: protection officers (SGBV, statelessness, tracing, vulnerability, voluntary repatriation, local integration cases)';
comment on role refuge_child_protection is 'refuge: child protection officers (BIA/BID and tracing cases)';
comment on role refuge_partner is 'refuge: partner organisation staff (only the fields of the cases referred to their organisation)';
comment on role refuge_gallery_reader is 'refuge: on a gallery shard, what HQ''s coordinator reads through postgres_fdw (the gallery''s ids and templates, and the distances); for the login of its user mapping';
comment on role refuge_dba is 'refuge: database administrators of the warehouse (take, list and drop snapshots; schedule them)';

-- A supervisor may do everything registration staff may.
grant refuge_registration to refuge_supervisor;

grant usage on schema refuge to refuge_owner, refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics,
    refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection,
    refuge_child_protection, refuge_partner, refuge_dba, refuge_gallery_reader;
