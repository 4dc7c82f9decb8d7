-- Person-level matching (extension/identity.c, matcher/fusion.c).

-- The dedup policy in force (superuser-only settings), checked.
create function refuge.dedup_settings(out target_fpir double precision, out block_fpir double precision,
                                      out verify_fmr double precision, out min_age integer,
                                      out search_fingers smallint[], out finger_candidates integer)
    language c stable parallel safe as 'MODULE_PATHNAME', 'refuge_dedup_settings';
comment on function refuge.dedup_settings() is
    'refuge.target_fpir, refuge.block_fpir, refuge.verify_fmr, refuge.biometric_min_age, refuge.dedup_fingers and refuge.dedup_finger_candidates, validated';

-- Fused evidence (decades) needed over `modalities` compared parts for a
-- person-level false-positive identification rate fpir in a gallery of
-- gallery_size people.  gallery_size 1 gives the 1:1 threshold for an FMR.
create function refuge.fused_threshold(gallery_size double precision, fpir double precision, modalities integer)
    returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fused_threshold';
comment on function refuge.fused_threshold(double precision, double precision, integer) is
    'evidence (decades) at which a gallery of this size produces a false candidate at rate fpir';

-- The rate at which a gallery of gallery_size people would produce evidence
-- this strong by chance.
create function refuge.fused_fpir(evidence double precision, modalities integer, gallery_size double precision)
    returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fused_fpir';
comment on function refuge.fused_fpir(double precision, integer, double precision) is
    'false-positive identification rate of fused evidence over this many parts in a gallery of this size';

-- Evidence (decades) of one iris distance (best of the default 7 shifts).
create function refuge.iris_evidence(hd double precision) returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_evidence';

-- One person against another: every finger position and eye captured on
-- both sides.  scores[1..10]: calibrated fingerprint scores; [11], [12]:
-- normalised iris distances (right, left); NULL where not compared.
create function refuge.person_match(probe_fingers refuge.fingerprint[], probe_irises refuge.iris[],
                                    gallery_fingers refuge.fingerprint[], gallery_irises refuge.iris[],
                                    out scores double precision[], out evidence double precision,
                                    out modalities integer)
    language c immutable parallel safe cost 20000 as 'MODULE_PATHNAME', 'refuge_person_match';
comment on function refuge.person_match(refuge.fingerprint[], refuge.iris[], refuge.fingerprint[], refuge.iris[]) is
    'fused comparison of two people (all fingers by position, irises by eye): per-part scores, evidence in decades, parts compared';

-- The vault (extension/vault.c).  Internal: only the API functions call them.
create function refuge.vault_seal(plain bytea, aad text) returns bytea
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_vault_seal';
create function refuge.vault_open(sealed bytea, aad text) returns bytea
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_vault_open';
create function refuge.vault_key_id() returns text
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_vault_key_id';
comment on function refuge.vault_key_id() is 'id (start of SHA-256) of the key in refuge.vault_key_file; never the key';

-- The last enrolment committed, seen with a fresh snapshot (also under
-- REPEATABLE READ); internal to enrol_biometrics.
create function refuge.gallery_seq_latest() returns bigint
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_gallery_seq_latest';

-- People enrolled (the gallery's size for thresholds): exact while small,
-- the planner's estimate once large (thresholds move by log10 of it).
create function refuge.gallery_size() returns bigint
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    est bigint;
begin
    select c.reltuples::bigint into est from pg_catalog.pg_class c where c.oid = 'refuge.biometric_enrolment'::regclass;
    if est is null or est < 100000 then
        select count(*) into est from refuge.biometric_enrolment e where e.status = 'ENROLLED';
    end if;
    return greatest(est, 1);
end
$$;

-- A synthetic person's templates in the shape enrol_biometrics and verify
-- take (10 fingers, 2 irises), for training, demos and load tests: person p
-- has fingers (p * 10 + position - 1) and eyes (p * 2, p * 2 + 1) of the
-- seeded generators; capture 0 is the enrolment, others are re-captures.
create function refuge.synthetic_templates(seed bigint, person bigint, capture integer default 0) returns jsonb
    language sql immutable strict parallel safe
begin atomic
    select jsonb_build_object(
        'fingers', (select jsonb_agg(jsonb_build_object('position', p,
                        'template', refuge.synthetic_fingerprint(seed, person * 10 + p - 1, capture)::text) order by p)
                      from generate_series(1, 10) p),
        'irises', jsonb_build_array(
            jsonb_build_object('eye', 'right', 'template', refuge.synthetic_iris(seed, person * 2, capture)::text),
            jsonb_build_object('eye', 'left', 'template', refuge.synthetic_iris(seed, person * 2 + 1, capture)::text)));
end;
