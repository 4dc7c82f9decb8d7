-- The audit chain (seal, verify, head) and the durable log of reads.

create function refuge.cluster_id() returns bigint
    language c stable parallel safe
    as 'MODULE_PATHNAME', 'refuge_cluster_id';

-- The sealed horizon of this cluster (0 when it has sealed nothing yet).
create function refuge.audit_horizon() returns bigint
    language sql stable
    set search_path = pg_catalog, pg_temp
return coalesce((select max(s.horizon) from refuge.audit_seal s where s.cluster_id = refuge.cluster_id()), 0);

-- A link is SHA-256(previous hash || seq || the row's canonical form): the
-- row's first ten columns in their binary send form, independent of session
-- settings (extension/audit_chain.c).  audit_digest() is the SHA-256 of the
-- canonical form alone.
create function refuge.audit_digest(a refuge.audit_log) returns bytea
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_audit_digest';

create function refuge.audit_link(prev bytea, seq bigint, a refuge.audit_log) returns bytea
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_audit_link';

-- The link as 0.5.0 was first released: the same chain over the row as JSON
-- text.  Seals made by that release verify under it (refuge.verify_audit
-- accepts a seal made either way); new seals are always made in C.
create function refuge.audit_link_v1(prev bytea, seq bigint, a refuge.audit_log) returns bytea
    language sql immutable parallel safe
return sha256(prev || int8send(seq)
              || convert_to(jsonb_build_array(a.id, a.txid, to_char(a.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                              a.actor, a.operation_id, a.table_name, a.row_id, a.action, a.old_data,
                                              a.new_data)::text, 'UTF8'));

-- The hash before the first seal.
create function refuge.audit_genesis() returns bytea
    language sql immutable parallel safe
return sha256(convert_to('refuge audit chain v1', 'UTF8'));

-- The chain notices a removed tail (refuge.audit_chain_length remembers how
-- far it reached), back-dated rows (dated more than a day before the seal
-- that preceded them) and rows whose class does not match their table, and
-- counts the bulk loads recorded in refuge.audit_bulk_load.
create function refuge.seal_audit() returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    horizon bigint;
    low bigint;
    prev bytea;
    last_seq bigint;
    a refuge.audit_log;
    seqs bigint[] := '{}';
    ids bigint[] := '{}';
    hashes bytea[] := '{}';
    n bigint := 0;
begin
    perform refuge.authorize_any(array['refuge_admin', 'refuge_supervisor', 'refuge_dba']::name[], 'seal_audit');
    if current_setting('transaction_isolation') <> 'read committed' then
        raise exception using errcode = '25000',
            message = 'seal_audit: run it under READ COMMITTED (a batch must see the batch before it)';
    end if;
    perform pg_advisory_xact_lock(7306086141237891841);
    horizon := pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
    select s.seq, s.hash into last_seq, prev from refuge.audit_seal s order by s.seq desc limit 1;
    low := refuge.audit_horizon();
    last_seq := coalesce(last_seq, 0);
    prev := coalesce(prev, refuge.audit_genesis());
    for a in select * from refuge.audit_log l
              where l.txid >= low and l.txid < horizon
                and not exists (select 1 from refuge.audit_seal s where s.audit_id = l.id)
              order by l.id
    loop
        last_seq := last_seq + 1;
        prev := refuge.audit_link(prev, last_seq, a);
        seqs := seqs || last_seq;
        ids := ids || a.id;
        hashes := hashes || prev;
        n := n + 1;
        if cardinality(seqs) >= 10000 then
            insert into refuge.audit_seal (seq, audit_id, cluster_id, horizon, hash)
            select s, i, refuge.cluster_id(), horizon, h from unnest(seqs, ids, hashes) as u(s, i, h);
            seqs := '{}'; ids := '{}'; hashes := '{}';
        end if;
    end loop;
    if cardinality(seqs) > 0 then
        insert into refuge.audit_seal (seq, audit_id, cluster_id, horizon, hash)
        select s, i, refuge.cluster_id(), horizon, h from unnest(seqs, ids, hashes) as u(s, i, h);
    end if;
    if n > 0 then
        raise log 'refuge audit chain head: seq % hash %', last_seq, encode(prev, 'hex');
        -- remembered outside the chain's tables, so that a removed tail is noticed
        perform setval('refuge.audit_chain_length', greatest(last_seq, (select c.last_value from refuge.audit_chain_length c)));
    end if;
    return jsonb_build_object('sealed', n, 'head_seq', last_seq, 'head_hash', encode(prev, 'hex'), 'horizon', horizon);
end
$$;
comment on function refuge.seal_audit() is
    'seal the audit rows no open transaction can still add to (the hash chain); schedule it';
grant execute on function refuge.seal_audit() to refuge_admin, refuge_dba;

-- The head of the chain, to keep outside the database (a copy elsewhere
-- detects even a rewrite of the whole chain: verify_audit(seq, hash)).
create function refuge.audit_head(out seq bigint, out hash text, out sealed_at timestamptz)
    language sql stable security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select s.seq, encode(s.hash, 'hex'), s.sealed_at from refuge.audit_seal s order by s.seq desc limit 1;
end;
comment on function refuge.audit_head() is
    'the head of the audit chain (seq and hash): keep it outside the database to detect a rewritten chain';
grant execute on function refuge.audit_head() to refuge_admin, refuge_dba;

create function refuge.verify_audit(anchor_seq bigint default null, anchor_hash text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    problems jsonb;
    nproblems bigint;
    sealed bigint;
    pending bigint;
    top bigint;
    head refuge.audit_seal;
    sealing jsonb;
    reached bigint;
    loads bigint;
begin
    perform refuge.authorize_any(array['refuge_admin', 'refuge_supervisor', 'refuge_dba']::name[], 'verify_audit');
    if (anchor_seq is null) <> (anchor_hash is null) then
        perform refuge.raise_field('22004', 'anchor_hash', 'an anchor is a sequence number and its hash, both given');
    end if;
    if current_setting('transaction_isolation') = 'read committed' then
        sealing := refuge.seal_audit();
    end if;
    top := refuge.audit_horizon();
    select c.last_value into reached from refuge.audit_chain_length c;
    select count(*) into loads from refuge.audit_bulk_load;
    with chain as (
        select s.seq, s.audit_id, s.hash, s.horizon, s.cluster_id,
               lag(s.cluster_id) over w as prev_cluster,
               lag(s.seq) over w as prev_seq,
               coalesce(lag(s.hash) over w, refuge.audit_genesis()) as prev_hash,
               lag(s.horizon) over w as prev_horizon, s.sealed_at,
               max(s.sealed_at) over (order by s.sealed_at range between unbounded preceding
                                                                and interval '1 microsecond' preceding) as prev_sealed_at
          from refuge.audit_seal s
        window w as (order by s.seq)),
    found as (
        select c.seq, c.audit_id, 'seal missing before this one' as problem
          from chain c where c.seq <> coalesce(c.prev_seq, 0) + 1
        union all
        select c.seq, c.audit_id, 'sealed audit row deleted'
          from chain c where not exists (select 1 from refuge.audit_log a where a.id = c.audit_id)
        union all
        select c.seq, c.audit_id, 'audit row or seal changed'
          from chain c join refuge.audit_log a on a.id = c.audit_id
         where (refuge.audit_link(c.prev_hash, c.seq, a) <> c.hash and refuge.audit_link_v1(c.prev_hash, c.seq, a) <> c.hash)
            or a.txid >= c.horizon
            or (c.cluster_id = c.prev_cluster and c.horizon < c.prev_horizon)
        union all
        select null, a.id, 'audit row without a seal below the sealed horizon (inserted afterwards, or its seal deleted)'
          from refuge.audit_log a
         where a.txid < top and not exists (select 1 from refuge.audit_seal s where s.audit_id = a.id)
        union all
        select c.seq, c.audit_id, format('audit row dated %s, more than a day before the seal of %s that preceded it (back-dated?)',
                                         a.at, c.prev_sealed_at)
          from chain c join refuge.audit_log a on a.id = c.audit_id
         where a.at < c.prev_sealed_at - interval '1 day'
        union all
        select c.seq, c.audit_id, format('audit row dated %s, after its seal of %s', a.at, c.sealed_at)
          from chain c join refuge.audit_log a on a.id = c.audit_id
         where a.at > c.sealed_at + interval '5 minutes'
        union all
        select null, a.id, format('audit row of %s classed %s, not %s', a.table_name, a.class, coalesce(s.class, 'restricted'))
          from refuge.audit_log a left join refuge.audit_scope s on s.table_name = a.table_name
         where a.class is distinct from coalesce(s.class, 'restricted')
        union all
        select reached, null, format('the chain had reached seq %s; seals after seq %s are gone (removed or truncated)',
                                     reached, coalesce((select max(s.seq) from refuge.audit_seal s), 0))
         where reached > coalesce((select max(s.seq) from refuge.audit_seal s), 0)
        union all
        select anchor_seq, null, 'anchor does not match: the chain was rewritten up to it'
         where anchor_seq is not null
           and not exists (select 1 from refuge.audit_seal s where s.seq = anchor_seq
                                                            and encode(s.hash, 'hex') = lower(anchor_hash)))
    select coalesce(jsonb_agg(jsonb_build_object('seq', f.seq, 'audit_id', f.audit_id, 'problem', f.problem)
                              order by f.seq nulls last, f.audit_id) filter (where f.rn <= 100), '[]'),
           count(*)
      into problems, nproblems
      from (select *, row_number() over (order by seq nulls last, audit_id) as rn from found) f;
    select count(*) into sealed from refuge.audit_seal;
    select count(*) into pending from refuge.audit_log a
     where a.txid >= top and not exists (select 1 from refuge.audit_seal s where s.audit_id = a.id);
    select * into head from refuge.audit_seal s order by s.seq desc limit 1;
    return jsonb_build_object('intact', nproblems = 0, 'problem_count', nproblems, 'problems', problems,
                              'sealed_rows', sealed, 'unsealed_rows', pending, 'head_seq', head.seq,
                              'head_hash', encode(head.hash, 'hex'),
                              'sealed_now', coalesce((sealing ->> 'sealed')::bigint, 0),
                              'bulk_loads', loads);
end
$$;
comment on function refuge.verify_audit(bigint, text) is
    'seal what can be sealed, then verify the whole audit chain (optionally against a kept head); returns the problems found';
grant execute on function refuge.verify_audit(bigint, text) to refuge_admin, refuge_dba;

-- Reads that are logged leave a record that survives the reader's rollback:
-- refuge.log_durably() hands the log rows to a background worker that
-- commits them before the data is returned (extension/access_log.c).  Log
-- tables hold no foreign keys: a log row names what was read even when it
-- was created in the reader's own uncommitted transaction, or erased since.
create function refuge.log_durably(rows jsonb) returns void
    language c volatile strict
    as 'MODULE_PATHNAME', 'refuge_log_durably';
comment on function refuge.log_durably(jsonb) is
    'internal: insert log rows ({"sensitive_read": [...], "vault_access": [...], ...}) in a transaction of their own and commit them before returning';
