-- refuge 0.1.1 -> 0.2.0: the iris type.
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.2.0'" to load this file. \quit

-- An iris code and mask with explicit geometry (rows x angular columns x bits
-- per cell).  Text form ROWSxCOLSxBITS:CODEHEX:MASKHEX.  Validated on input,
-- so comparisons never fail on a value.  Codes are random bits: stored
-- uncompressed.
create type refuge.iris;
create function refuge.iris_in(cstring) returns refuge.iris
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_in';
create function refuge.iris_out(refuge.iris) returns cstring
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_out';
create function refuge.iris_recv(internal) returns refuge.iris
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_recv';
create function refuge.iris_send(refuge.iris) returns bytea
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_send';
create type refuge.iris (
    input = refuge.iris_in, output = refuge.iris_out,
    receive = refuge.iris_recv, send = refuge.iris_send,
    internallength = variable, alignment = double, storage = external);
comment on type refuge.iris is 'iris code and mask with geometry; compare with <-> (normalised Hamming distance, best of the default shifts) or %';

create function refuge.iris_from_bytes(code bytea, mask bytea, rows integer, cols integer, bits_per_cell integer)
    returns refuge.iris
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_from_bytes';
comment on function refuge.iris_from_bytes(bytea, bytea, integer, integer, integer) is
    'iris from packed code and mask bytes (MSB first), rows x cols x bits_per_cell bits each';

-- Masked fractional Hamming distance, normalised for the bits compared
-- (Daugman), minimum over the default rotations; 1 when the two cannot be
-- compared (other geometry, too few bits in common).
create function refuge.iris_distance(a refuge.iris, b refuge.iris) returns double precision
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_iris_distance';
create operator refuge.<-> (leftarg = refuge.iris, rightarg = refuge.iris,
    function = refuge.iris_distance, commutator = operator(refuge.<->));

-- Match at a threshold given here: IMMUTABLE, for constraints, pinned
-- queries and remote servers.
create function refuge.match(a refuge.iris, b refuge.iris, threshold double precision) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_iris_match';

-- Match at refuge.iris_threshold: STABLE because it reads the setting.
create function refuge.iris_match_op(a refuge.iris, b refuge.iris) returns boolean
    language c stable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_iris_match_op';
create operator refuge.% (leftarg = refuge.iris, rightarg = refuge.iris,
    function = refuge.iris_match_op, commutator = operator(refuge.%),
    restrict = matchingsel, join = matchingjoinsel);

create function refuge.iris_valid_bits(refuge.iris) returns integer
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_valid_bits';

-- Decision threshold on the normalised distance for a gallery of
-- gallery_size eyes at a target false-positive identification rate, from the
-- binomial impostor model (dof degrees of freedom, shifts rotations).
create function refuge.iris_threshold_for(gallery_size double precision, fpir double precision,
                                          dof double precision default 249, shifts integer default 7)
    returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_threshold_for';

-- Ownership and privileges, as for every refuge object.
alter type refuge.iris owner to refuge_owner;
do $own$
declare
    f record;
begin
    for f in select p.oid::regprocedure as sig from pg_catalog.pg_proc p
              where p.pronamespace = 'refuge'::regnamespace and p.proowner <> 'refuge_owner'::regrole
    loop
        execute format('alter function %s owner to refuge_owner', f.sig);
        execute format('revoke all on function %s from public', f.sig);
    end loop;
end
$own$;
grant execute on function refuge.iris_from_bytes(bytea, bytea, integer, integer, integer),
    refuge.iris_distance(refuge.iris, refuge.iris), refuge.match(refuge.iris, refuge.iris, double precision),
    refuge.iris_match_op(refuge.iris, refuge.iris), refuge.iris_valid_bits(refuge.iris),
    refuge.iris_threshold_for(double precision, double precision, double precision, integer),
    refuge.iris_in(cstring), refuge.iris_out(refuge.iris), refuge.iris_recv(internal), refuge.iris_send(refuge.iris)
    to refuge_registration, refuge_supervisor, refuge_admin;
