-- The biometric types (iris, fingerprint), their operators and the two index
-- access methods for 1:N search (refuge_iris, refuge_fingerprint).

create function refuge.iris_in(cstring) returns refuge.iris
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_in';
comment on function refuge.iris_in(cstring) is
    'text input of the iris type (ROWSxCOLSxBITS:CODEHEX:MASKHEX)';
grant execute on function refuge.iris_in(cstring) to refuge_registration, refuge_supervisor, refuge_admin;

create function refuge.iris_out(refuge.iris) returns cstring
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_out';
comment on function refuge.iris_out(refuge.iris) is
    'text output of the iris type';
grant execute on function refuge.iris_out(refuge.iris) to refuge_registration, refuge_supervisor,
    refuge_admin;

create function refuge.iris_recv(internal) returns refuge.iris
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_recv';
comment on function refuge.iris_recv(internal) is
    'binary input of the iris type (its layout)';
grant execute on function refuge.iris_recv(internal) to refuge_registration, refuge_supervisor, refuge_admin;

create function refuge.iris_send(refuge.iris) returns bytea
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_send';
comment on function refuge.iris_send(refuge.iris) is
    'binary output of the iris type (its layout)';
grant execute on function refuge.iris_send(refuge.iris) to refuge_registration, refuge_supervisor,
    refuge_admin;

create function refuge.iris_from_bytes(code bytea, mask bytea, rows integer, cols integer, bits_per_cell integer)
    returns refuge.iris
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_from_bytes';
comment on function refuge.iris_from_bytes(bytea, bytea, integer, integer, integer) is
    'iris from packed code and mask bytes (MSB first), rows x cols x bits_per_cell bits each';
grant execute on function refuge.iris_from_bytes(bytea, bytea, integer, integer, integer) to
    refuge_registration, refuge_supervisor, refuge_admin;

-- Masked fractional Hamming distance, normalised for the bits compared
-- (Daugman), minimum over the default rotations; 1 when the two cannot be
-- compared (other geometry, too few bits in common).
create function refuge.iris_distance(a refuge.iris, b refuge.iris) returns double precision
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_iris_distance';
comment on function refuge.iris_distance(refuge.iris, refuge.iris) is
    'normalised Hamming distance of two iris codes, best of the default shifts; the <-> operator';
grant execute on function refuge.iris_distance(refuge.iris, refuge.iris) to refuge_registration,
    refuge_supervisor, refuge_admin;

-- Match at a threshold given here: IMMUTABLE, for constraints, pinned
-- queries and remote servers.
create function refuge.match(a refuge.iris, b refuge.iris, threshold double precision) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_iris_match';
comment on function refuge.match(refuge.iris, refuge.iris, double precision) is
    'do two iris codes match at this distance threshold?';
grant execute on function refuge.match(refuge.iris, refuge.iris, double precision) to refuge_registration,
    refuge_supervisor, refuge_admin;

-- Match at refuge.iris_threshold: STABLE because it reads the setting.
create function refuge.iris_match_op(a refuge.iris, b refuge.iris) returns boolean
    language c stable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_iris_match_op';
comment on function refuge.iris_match_op(refuge.iris, refuge.iris) is
    'do two iris codes match at refuge.iris_threshold? The % operator';
grant execute on function refuge.iris_match_op(refuge.iris, refuge.iris) to refuge_registration,
    refuge_supervisor, refuge_admin;

create function refuge.iris_valid_bits(refuge.iris) returns integer
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_valid_bits';
comment on function refuge.iris_valid_bits(refuge.iris) is
    'the number of valid (unmasked) bits of an iris code';
grant execute on function refuge.iris_valid_bits(refuge.iris) to refuge_registration, refuge_supervisor,
    refuge_admin;

-- Decision threshold on the normalised distance for a gallery of
-- gallery_size eyes at a target false-positive identification rate, from the
-- binomial impostor model (dof degrees of freedom, shifts rotations).
create function refuge.iris_threshold_for(gallery_size double precision, fpir double precision,
                                          dof double precision default 249, shifts integer default 7)
    returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_threshold_for';
comment on function refuge.iris_threshold_for(double precision, double precision, double precision, integer) is
    'the distance threshold for a target false-match rate (iris codes of a geometry)';
grant execute on function refuge.iris_threshold_for(double precision, double precision, double precision,
    integer) to refuge_registration, refuge_supervisor, refuge_admin;

create function refuge.fingerprint_in(cstring) returns refuge.fingerprint
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fingerprint_in';
comment on function refuge.fingerprint_in(cstring) is
    'text input of the fingerprint type';
grant execute on function refuge.fingerprint_in(cstring) to refuge_registration, refuge_supervisor,
    refuge_admin;

create function refuge.fingerprint_out(refuge.fingerprint) returns cstring
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fingerprint_out';
comment on function refuge.fingerprint_out(refuge.fingerprint) is
    'text output of the fingerprint type';
grant execute on function refuge.fingerprint_out(refuge.fingerprint) to refuge_registration,
    refuge_supervisor, refuge_admin;

create function refuge.fingerprint_recv(internal) returns refuge.fingerprint
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fingerprint_recv';
comment on function refuge.fingerprint_recv(internal) is
    'binary input of the fingerprint type (lossless RFP form; ISO/ANSI records accepted)';
grant execute on function refuge.fingerprint_recv(internal) to refuge_registration, refuge_supervisor,
    refuge_admin;

create function refuge.fingerprint_send(refuge.fingerprint) returns bytea
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fingerprint_send';
comment on function refuge.fingerprint_send(refuge.fingerprint) is
    'binary output of the fingerprint type (lossless RFP form)';
grant execute on function refuge.fingerprint_send(refuge.fingerprint) to refuge_registration,
    refuge_supervisor, refuge_admin;

create function refuge.fingerprint_from_xyt(xyt text, width integer, height integer, dpi integer,
                                            finger_position integer default 0)
    returns refuge.fingerprint
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fingerprint_from_xyt';
comment on function refuge.fingerprint_from_xyt(text, integer, integer, integer, integer) is
    'fingerprint from NIST .xyt minutiae ("x y theta quality", y up from the bottom) of a width x height image at dpi';
grant execute on function refuge.fingerprint_from_xyt(text, integer, integer, integer, integer) to
    refuge_registration, refuge_supervisor, refuge_admin;

create function refuge.fingerprint_from_record(record bytea, view integer default 1) returns refuge.fingerprint
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fingerprint_from_record';
comment on function refuge.fingerprint_from_record(bytea, integer) is
    'one view of an ISO/IEC 19794-2:2005 or ANSI INCITS 378-2004 record (detected)';
grant execute on function refuge.fingerprint_from_record(bytea, integer) to refuge_registration,
    refuge_supervisor, refuge_admin;

create function refuge.fingerprint_to_iso(refuge.fingerprint) returns bytea
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fingerprint_to_iso';
comment on function refuge.fingerprint_to_iso(refuge.fingerprint) is
    'a fingerprint as an ISO/IEC 19794-2:2005 record';
grant execute on function refuge.fingerprint_to_iso(refuge.fingerprint) to refuge_registration,
    refuge_supervisor, refuge_admin;

-- Calibrated similarity: 10 log10(1 / FMR); symmetric.
create function refuge.fingerprint_score(a refuge.fingerprint, b refuge.fingerprint) returns double precision
    language c immutable strict parallel safe leakproof cost 4000
    as 'MODULE_PATHNAME', 'refuge_fingerprint_score';
comment on function refuge.fingerprint_score(refuge.fingerprint, refuge.fingerprint) is
    'calibrated similarity of two fingerprints: 10 log10(1/FMR)';
grant execute on function refuge.fingerprint_score(refuge.fingerprint, refuge.fingerprint) to
    refuge_registration, refuge_supervisor, refuge_admin;

-- Distance: the model's false-match probability (smaller = stronger match).
create function refuge.fingerprint_distance(a refuge.fingerprint, b refuge.fingerprint) returns double precision
    language c immutable strict parallel safe leakproof cost 4000
    as 'MODULE_PATHNAME', 'refuge_fingerprint_distance';
comment on function refuge.fingerprint_distance(refuge.fingerprint, refuge.fingerprint) is
    'the matcher''s false-match probability of two fingerprints (smaller: stronger match); the <-> operator';
grant execute on function refuge.fingerprint_distance(refuge.fingerprint, refuge.fingerprint) to
    refuge_registration, refuge_supervisor, refuge_admin;

create function refuge.match(a refuge.fingerprint, b refuge.fingerprint, threshold double precision) returns boolean
    language c immutable strict parallel safe leakproof cost 4000
    as 'MODULE_PATHNAME', 'refuge_fingerprint_match';
comment on function refuge.match(refuge.fingerprint, refuge.fingerprint, double precision) is
    'do two fingerprints match at this calibrated score?';
grant execute on function refuge.match(refuge.fingerprint, refuge.fingerprint, double precision) to
    refuge_registration, refuge_supervisor, refuge_admin;

create function refuge.fingerprint_match_op(a refuge.fingerprint, b refuge.fingerprint) returns boolean
    language c stable strict parallel safe leakproof cost 4000
    as 'MODULE_PATHNAME', 'refuge_fingerprint_match_op';
comment on function refuge.fingerprint_match_op(refuge.fingerprint, refuge.fingerprint) is
    'do two fingerprints match at refuge.fingerprint_threshold? The % operator';
grant execute on function refuge.fingerprint_match_op(refuge.fingerprint, refuge.fingerprint) to
    refuge_registration, refuge_supervisor, refuge_admin;

create function refuge.fingerprint_minutiae(refuge.fingerprint) returns integer
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fingerprint_minutiae';
comment on function refuge.fingerprint_minutiae(refuge.fingerprint) is
    'the number of minutiae of a fingerprint';
grant execute on function refuge.fingerprint_minutiae(refuge.fingerprint) to refuge_registration,
    refuge_supervisor, refuge_admin;

create function refuge.fingerprint_quality(refuge.fingerprint) returns integer
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fingerprint_quality';
comment on function refuge.fingerprint_quality(refuge.fingerprint) is
    'the quality of a fingerprint view (0-100)';
grant execute on function refuge.fingerprint_quality(refuge.fingerprint) to refuge_registration,
    refuge_supervisor, refuge_admin;

create function refuge.fingerprint_position(refuge.fingerprint) returns integer
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fingerprint_position';
comment on function refuge.fingerprint_position(refuge.fingerprint) is
    'the finger position of a fingerprint (ISO 1-10, 0 unknown)';
grant execute on function refuge.fingerprint_position(refuge.fingerprint) to refuge_registration,
    refuge_supervisor, refuge_admin;

-- Seeded synthetic biometrics (training, load tests, demos, benchmarks): the
-- same (seed, subject, capture) gives the same template on any machine;
-- capture 0 is the enrolment, others are re-captures of the same eye/finger.
create function refuge.synthetic_iris(seed bigint, subject bigint, capture integer default 0) returns refuge.iris
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_synthetic_iris';
comment on function refuge.synthetic_iris(bigint, bigint, integer) is
    'a synthetic iris code (seed, person, capture) for tests and demos';
grant execute on function refuge.synthetic_iris(bigint, bigint, integer) to refuge_registration,
    refuge_supervisor, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance;

create function refuge.synthetic_fingerprint(seed bigint, subject bigint, capture integer default 0)
    returns refuge.fingerprint
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_synthetic_fingerprint';
comment on function refuge.synthetic_fingerprint(bigint, bigint, integer) is
    'a synthetic fingerprint (seed, person, impression) for tests and demos';
grant execute on function refuge.synthetic_fingerprint(bigint, bigint, integer) to refuge_registration,
    refuge_supervisor, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance;

-- refuge_iris: exact 1:N iris search, ORDER BY code <-> probe [LIMIT k] and WHERE code % probe, over
-- packed codes in the index's own pages (extension/iris_index.c).  The
-- default operator class, so USING refuge_iris needs no opclass name.
create function refuge.iris_index_handler(internal) returns index_am_handler
    language c as 'MODULE_PATHNAME', 'refuge_iris_index_handler';

-- Checking a refuge_iris index against its table, in the spirit of amcheck:
-- the structure (metapage, item sizes, each template's validation) while
-- reading the entries, then every row the caller can see must be in the index
-- with the same code, and no heap TID may appear twice.  Returns the rows
-- checked; raises index_corrupted (XX002) otherwise.
create function refuge.iris_index_items(index regclass)
    returns table (heap_tid tid, code refuge.iris)
    language c strict as 'MODULE_PATHNAME', 'refuge_iris_index_items';
comment on function refuge.iris_index_items(regclass) is
    'every entry of a refuge_iris index, checking its structure; needs SELECT on the table and no row-level security in the way';
grant execute on function refuge.iris_index_items(regclass) to refuge_admin;

-- refuge_fingerprint: 1:N fingerprint search in two stages, cylinder min-hash
-- keys to pick refuge.fingerprint_candidates candidates, then the full
-- matcher on those (extension/fingerprint_index.c).  Not exact: how often
-- the first stage loses a true mate is measured in test/bench/fp_index.sh.
create function refuge.fingerprint_index_handler(internal) returns index_am_handler
    language c as 'MODULE_PATHNAME', 'refuge_fingerprint_index_handler';

create function refuge.fingerprint_index_items(index regclass)
    returns table (heap_tid tid, fp refuge.fingerprint)
    language c strict as 'MODULE_PATHNAME', 'refuge_fingerprint_index_items';
comment on function refuge.fingerprint_index_items(regclass) is
    'every entry of a refuge_fingerprint index, checking its structure and keys; needs SELECT on the table and no row-level security in the way';
grant execute on function refuge.fingerprint_index_items(regclass) to refuge_admin;

-- Index verification learns partial indexes (the gallery has one fingerprint
-- index per searched finger position): only rows of the predicate are due.
create function refuge.biometric_index_verify(index regclass, method name) returns bigint
    language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    tbl regclass;
    col name;
    items text := case method when 'refuge_iris' then 'refuge.iris_index_items'
                              when 'refuge_fingerprint' then 'refuge.fingerprint_index_items' end;
    checked bigint;
    missing bigint;
    twice bigint;
    pred text;
begin
    select i.indrelid::regclass, a.attname, pg_catalog.pg_get_expr(i.indpred, i.indrelid) into tbl, col, pred
      from pg_catalog.pg_index i
      join pg_catalog.pg_class c on c.oid = i.indexrelid
      join pg_catalog.pg_am am on am.oid = c.relam and am.amname = method
      left join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
     where i.indexrelid = index;
    if tbl is null or items is null then
        raise exception 'index: % is not a % index', index, method using errcode = 'wrong_object_type';
    end if;
    if col is null then
        raise exception 'index: % is on an expression; only column indexes can be verified', index
            using errcode = 'feature_not_supported';
    end if;
    execute format('with i as materialized (select heap_tid, v::text as v from %3$s($1) as e(heap_tid, v))
                    select count(*), count(*) filter (where i.heap_tid is null or i.v is distinct from t.%1$I::text),
                           (select count(*) from (select heap_tid from i group by heap_tid having count(*) > 1) d)
                      from %2$s t left join i on i.heap_tid = t.ctid
                     where %4$s', col, tbl, items,
                   case method when 'refuge_fingerprint' then format('t.%I is not null', col) else 'true' end
                   -- a partial index holds the rows of its predicate only
                   || coalesce(' and (' || pred || ')', ''))
       into checked, missing, twice using index;
    if missing > 0 or twice > 0 then
        raise exception 'index %: % of % rows of % missing or with a different value, % heap TIDs indexed twice',
            index, missing, checked, tbl, twice using errcode = 'index_corrupted';
    end if;
    return checked;
end $$;
comment on function refuge.biometric_index_verify(regclass, name) is
    'the check behind iris_index_verify and fingerprint_index_verify';
grant execute on function refuge.biometric_index_verify(regclass, name) to refuge_admin;

create type refuge.iris (
    input = refuge.iris_in, output = refuge.iris_out,
    receive = refuge.iris_recv, send = refuge.iris_send,
    internallength = variable, alignment = double, storage = external);
comment on type refuge.iris is 'iris code and mask with geometry; compare with <-> (normalised Hamming distance, best of the default shifts) or %';

create operator refuge.<-> (leftarg = refuge.iris, rightarg = refuge.iris,
    function = refuge.iris_distance, commutator = operator(refuge.<->));
comment on operator refuge.<-> (refuge.iris, refuge.iris) is 'distance of two iriss (smaller: more alike); ORDER BY ... <-> probe uses a refuge_iris index';

create operator refuge.% (leftarg = refuge.iris, rightarg = refuge.iris,
    function = refuge.iris_match_op, commutator = operator(refuge.%),
    restrict = matchingsel, join = matchingjoinsel);
comment on operator refuge.% (refuge.iris, refuge.iris) is 'do two iriss match at refuge.iris_threshold? WHERE ... % probe uses a refuge_iris index';

create type refuge.fingerprint (
    input = refuge.fingerprint_in, output = refuge.fingerprint_out,
    receive = refuge.fingerprint_recv, send = refuge.fingerprint_send,
    internallength = variable, alignment = int4, storage = main);
comment on type refuge.fingerprint is 'one finger view''s minutiae with position, impression, quality, size and resolution';

create operator refuge.<-> (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint,
    function = refuge.fingerprint_distance, commutator = operator(refuge.<->));
comment on operator refuge.<-> (refuge.fingerprint, refuge.fingerprint) is 'distance of two fingerprints (smaller: more alike); ORDER BY ... <-> probe uses a refuge_fingerprint index';

create operator refuge.% (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint,
    function = refuge.fingerprint_match_op, commutator = operator(refuge.%),
    restrict = matchingsel, join = matchingjoinsel);
comment on operator refuge.% (refuge.fingerprint, refuge.fingerprint) is 'do two fingerprints match at refuge.fingerprint_threshold? WHERE ... % probe uses a refuge_fingerprint index';

-- Equality and an order for iris: the stored bytes (the same template, not the
-- same person: that is <-> and %), so that DISTINCT, GROUP BY, UNION, ORDER BY,
-- btree and hash indexes work (extension/template_order.c).
create function refuge.iris_eq(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_eq';
comment on function refuge.iris_eq(refuge.iris, refuge.iris) is 'the same template (byte for byte)';
grant execute on function refuge.iris_eq(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_ne(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_ne';
comment on function refuge.iris_ne(refuge.iris, refuge.iris) is 'not the same template';
grant execute on function refuge.iris_ne(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_lt(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_lt';
comment on function refuge.iris_lt(refuge.iris, refuge.iris) is 'before, in the order of the stored bytes';
grant execute on function refuge.iris_lt(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_le(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_le';
comment on function refuge.iris_le(refuge.iris, refuge.iris) is 'before or the same, in the order of the stored bytes';
grant execute on function refuge.iris_le(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_gt(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_gt';
comment on function refuge.iris_gt(refuge.iris, refuge.iris) is 'after, in the order of the stored bytes';
grant execute on function refuge.iris_gt(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_ge(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_ge';
comment on function refuge.iris_ge(refuge.iris, refuge.iris) is 'after or the same, in the order of the stored bytes';
grant execute on function refuge.iris_ge(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_cmp(refuge.iris, refuge.iris) returns integer
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_cmp';
comment on function refuge.iris_cmp(refuge.iris, refuge.iris) is '-1, 0 or 1: the btree comparison of two templates (order of the stored bytes)';
grant execute on function refuge.iris_cmp(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_hash(refuge.iris) returns integer
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_hash';
comment on function refuge.iris_hash(refuge.iris) is 'hash of the stored bytes (hash indexes, hash joins and aggregates)';
grant execute on function refuge.iris_hash(refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_hash_extended(refuge.iris, bigint) returns bigint
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_hash_extended';
comment on function refuge.iris_hash_extended(refuge.iris, bigint) is 'seeded hash of the stored bytes (hash partitioning)';
grant execute on function refuge.iris_hash_extended(refuge.iris, bigint) to refuge_registration, refuge_supervisor, refuge_admin;
create operator refuge.= (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_eq,
    commutator = operator(refuge.=), negator = operator(refuge.<>), restrict = eqsel, join = eqjoinsel, hashes, merges);
create operator refuge.<> (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_ne,
    commutator = operator(refuge.<>), negator = operator(refuge.=), restrict = neqsel, join = neqjoinsel);
comment on operator refuge.<> (refuge.iris, refuge.iris) is 'not the same template (byte for byte)';
create operator refuge.< (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_lt,
    commutator = operator(refuge.>), negator = operator(refuge.>=), restrict = scalarltsel, join = scalarltjoinsel);
comment on operator refuge.< (refuge.iris, refuge.iris) is 'before, in the order of the stored bytes (arbitrary but stable)';
create operator refuge.<= (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_le,
    commutator = operator(refuge.>=), negator = operator(refuge.>), restrict = scalarlesel, join = scalarlejoinsel);
comment on operator refuge.<= (refuge.iris, refuge.iris) is 'before or the same, in the order of the stored bytes';
create operator refuge.> (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_gt,
    commutator = operator(refuge.<), negator = operator(refuge.<=), restrict = scalargtsel, join = scalargtjoinsel);
comment on operator refuge.> (refuge.iris, refuge.iris) is 'after, in the order of the stored bytes';
create operator refuge.>= (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_ge,
    commutator = operator(refuge.<=), negator = operator(refuge.<), restrict = scalargesel, join = scalargejoinsel);
comment on operator refuge.>= (refuge.iris, refuge.iris) is 'after or the same, in the order of the stored bytes';
comment on operator refuge.= (refuge.iris, refuge.iris) is 'the same template (byte for byte): use % or <-> to compare people';
create operator class refuge.iris_btree_ops default for type refuge.iris using btree as
    operator 1 refuge.< , operator 2 refuge.<= , operator 3 refuge.= , operator 4 refuge.>= , operator 5 refuge.> ,
    function 1 refuge.iris_cmp(refuge.iris, refuge.iris);
create operator class refuge.iris_hash_ops default for type refuge.iris using hash as
    operator 1 refuge.= ,
    function 1 refuge.iris_hash(refuge.iris),
    function 2 refuge.iris_hash_extended(refuge.iris, bigint);

-- Equality and an order for fingerprint: the stored bytes (the same template, not the
-- same person: that is <-> and %), so that DISTINCT, GROUP BY, UNION, ORDER BY,
-- btree and hash indexes work (extension/template_order.c).
create function refuge.fingerprint_eq(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_eq';
comment on function refuge.fingerprint_eq(refuge.fingerprint, refuge.fingerprint) is 'the same template (byte for byte)';
grant execute on function refuge.fingerprint_eq(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_ne(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_ne';
comment on function refuge.fingerprint_ne(refuge.fingerprint, refuge.fingerprint) is 'not the same template';
grant execute on function refuge.fingerprint_ne(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_lt(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_lt';
comment on function refuge.fingerprint_lt(refuge.fingerprint, refuge.fingerprint) is 'before, in the order of the stored bytes';
grant execute on function refuge.fingerprint_lt(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_le(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_le';
comment on function refuge.fingerprint_le(refuge.fingerprint, refuge.fingerprint) is 'before or the same, in the order of the stored bytes';
grant execute on function refuge.fingerprint_le(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_gt(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_gt';
comment on function refuge.fingerprint_gt(refuge.fingerprint, refuge.fingerprint) is 'after, in the order of the stored bytes';
grant execute on function refuge.fingerprint_gt(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_ge(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_ge';
comment on function refuge.fingerprint_ge(refuge.fingerprint, refuge.fingerprint) is 'after or the same, in the order of the stored bytes';
grant execute on function refuge.fingerprint_ge(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_cmp(refuge.fingerprint, refuge.fingerprint) returns integer
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_cmp';
comment on function refuge.fingerprint_cmp(refuge.fingerprint, refuge.fingerprint) is '-1, 0 or 1: the btree comparison of two templates (order of the stored bytes)';
grant execute on function refuge.fingerprint_cmp(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_hash(refuge.fingerprint) returns integer
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_hash';
comment on function refuge.fingerprint_hash(refuge.fingerprint) is 'hash of the stored bytes (hash indexes, hash joins and aggregates)';
grant execute on function refuge.fingerprint_hash(refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_hash_extended(refuge.fingerprint, bigint) returns bigint
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_hash_extended';
comment on function refuge.fingerprint_hash_extended(refuge.fingerprint, bigint) is 'seeded hash of the stored bytes (hash partitioning)';
grant execute on function refuge.fingerprint_hash_extended(refuge.fingerprint, bigint) to refuge_registration, refuge_supervisor, refuge_admin;
create operator refuge.= (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_eq,
    commutator = operator(refuge.=), negator = operator(refuge.<>), restrict = eqsel, join = eqjoinsel, hashes, merges);
create operator refuge.<> (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_ne,
    commutator = operator(refuge.<>), negator = operator(refuge.=), restrict = neqsel, join = neqjoinsel);
comment on operator refuge.<> (refuge.fingerprint, refuge.fingerprint) is 'not the same template (byte for byte)';
create operator refuge.< (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_lt,
    commutator = operator(refuge.>), negator = operator(refuge.>=), restrict = scalarltsel, join = scalarltjoinsel);
comment on operator refuge.< (refuge.fingerprint, refuge.fingerprint) is 'before, in the order of the stored bytes (arbitrary but stable)';
create operator refuge.<= (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_le,
    commutator = operator(refuge.>=), negator = operator(refuge.>), restrict = scalarlesel, join = scalarlejoinsel);
comment on operator refuge.<= (refuge.fingerprint, refuge.fingerprint) is 'before or the same, in the order of the stored bytes';
create operator refuge.> (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_gt,
    commutator = operator(refuge.<), negator = operator(refuge.<=), restrict = scalargtsel, join = scalargtjoinsel);
comment on operator refuge.> (refuge.fingerprint, refuge.fingerprint) is 'after, in the order of the stored bytes';
create operator refuge.>= (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_ge,
    commutator = operator(refuge.<=), negator = operator(refuge.<), restrict = scalargesel, join = scalargejoinsel);
comment on operator refuge.>= (refuge.fingerprint, refuge.fingerprint) is 'after or the same, in the order of the stored bytes';
comment on operator refuge.= (refuge.fingerprint, refuge.fingerprint) is 'the same template (byte for byte): use % or <-> to compare people';
create operator class refuge.fingerprint_btree_ops default for type refuge.fingerprint using btree as
    operator 1 refuge.< , operator 2 refuge.<= , operator 3 refuge.= , operator 4 refuge.>= , operator 5 refuge.> ,
    function 1 refuge.fingerprint_cmp(refuge.fingerprint, refuge.fingerprint);
create operator class refuge.fingerprint_hash_ops default for type refuge.fingerprint using hash as
    operator 1 refuge.= ,
    function 1 refuge.fingerprint_hash(refuge.fingerprint),
    function 2 refuge.fingerprint_hash_extended(refuge.fingerprint, bigint);

-- Byte forms: bytea::iris reads the iris layout (the binary form iris::bytea
-- writes); bytea::fingerprint reads an ISO/IEC 19794-2 or ANSI INCITS 378
-- record (its first view), fingerprint::bytea writes an ISO record.  Explicit
-- casts only: a byte string is never taken for a template by accident.
create function refuge.iris(layout bytea) returns refuge.iris
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_from_layout';
comment on function refuge.iris(bytea) is 'an iris from its byte layout (the binary form); bytea::refuge.iris';
grant execute on function refuge.iris(bytea) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_bytes(refuge.iris) returns bytea
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_send';
comment on function refuge.iris_bytes(refuge.iris) is 'the byte layout of an iris (its binary form); refuge.iris::bytea';
grant execute on function refuge.iris_bytes(refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create cast (bytea as refuge.iris) with function refuge.iris(bytea);
create cast (refuge.iris as bytea) with function refuge.iris_bytes(refuge.iris);
comment on cast (bytea as refuge.iris) is 'the iris layout (the binary form)';
comment on cast (refuge.iris as bytea) is 'the iris layout (the binary form)';
create function refuge.fingerprint(record bytea) returns refuge.fingerprint
    language sql immutable strict parallel safe
    return refuge.fingerprint_from_record(record, 1);
comment on function refuge.fingerprint(bytea) is 'the first view of an ISO/IEC 19794-2:2005 or ANSI INCITS 378-2004 record; bytea::refuge.fingerprint';
grant execute on function refuge.fingerprint(bytea) to refuge_registration, refuge_supervisor, refuge_admin;
create cast (bytea as refuge.fingerprint) with function refuge.fingerprint(bytea);
create cast (refuge.fingerprint as bytea) with function refuge.fingerprint_to_iso(refuge.fingerprint);
comment on cast (bytea as refuge.fingerprint) is 'the first view of an ISO/IEC 19794-2 or ANSI INCITS 378 record';
comment on cast (refuge.fingerprint as bytea) is 'an ISO/IEC 19794-2:2005 record of one view';

create access method refuge_iris type index handler refuge.iris_index_handler;
comment on access method refuge_iris is 'exact 1:N iris search: ORDER BY code <-> probe, compared at popcount speed';

create operator class refuge.iris_ops default for type refuge.iris using refuge_iris as
    operator 1 refuge.<-> (refuge.iris, refuge.iris) for order by pg_catalog.float_ops,
    operator 2 refuge.% (refuge.iris, refuge.iris),
    function 1 refuge.iris_distance(refuge.iris, refuge.iris);

create function refuge.iris_index_verify(index regclass) returns bigint
    language sql set search_path = pg_catalog, pg_temp
    return refuge.biometric_index_verify(index, 'refuge_iris');
comment on function refuge.iris_index_verify(regclass) is
    'checks a refuge_iris index against its table: structure, every visible row present with its code; returns rows checked';
grant execute on function refuge.iris_index_verify(regclass) to refuge_admin;

create access method refuge_fingerprint type index handler refuge.fingerprint_index_handler;
comment on access method refuge_fingerprint is '1:N fingerprint search: cylinder min-hash candidates re-scored by the full matcher, ORDER BY fp <-> probe and WHERE fp % probe';

create operator class refuge.fingerprint_ops default for type refuge.fingerprint using refuge_fingerprint as
    operator 1 refuge.<-> (refuge.fingerprint, refuge.fingerprint) for order by pg_catalog.float_ops,
    operator 2 refuge.% (refuge.fingerprint, refuge.fingerprint),
    function 1 refuge.fingerprint_distance(refuge.fingerprint, refuge.fingerprint);

create function refuge.fingerprint_index_verify(index regclass) returns bigint
    language sql set search_path = pg_catalog, pg_temp
    return refuge.biometric_index_verify(index, 'refuge_fingerprint');
comment on function refuge.fingerprint_index_verify(regclass) is
    'checks a refuge_fingerprint index against its table: structure, keys, every visible non-NULL row present with its value; returns rows checked';
grant execute on function refuge.fingerprint_index_verify(regclass) to refuge_admin;
