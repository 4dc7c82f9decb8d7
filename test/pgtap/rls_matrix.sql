-- Each role x each table x select/insert/update/delete behaves as designed.
-- The expected outcome of every cell is derived here from the access model;
-- a table that the model does not classify fails the first test.
begin;
\ir fixtures.inc

-- How each table is classified.
create temp table access_class (tab text primary key, class text not null);
insert into access_class
select c.relname,
       case
         when exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'shipped') then 'shared'
         when c.relname in ('operation', 'site') then 'shared'
         when c.relname in ('staff', 'staff_assignment') then 'staff'
         when c.relname in ('registration_group', 'individual') then 'person'
         when exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'individual_id' and not a.attisdropped)
              and c.relname <> 'api_request' then 'person_child'
         when c.relname = 'audit_log' then 'audit'
         when c.relname = 'api_request' then 'internal'
       end
  from pg_class c
 where c.relnamespace = 'refuge'::regnamespace and c.relkind in ('r', 'p');

-- Rows a role should see: -1 means permission denied.
create function pg_temp.expected(t text, r text) returns bigint language plpgsql as $$
declare
    cls text := (select class from access_class where tab = t);
    ken uuid := (select id from refuge.operation where code = 'KEN');
    kakuma uuid := (select id from refuge.site where code = 'KAKUMA');
    n bigint;
    opfilter text;
begin
    if r = 'tap_nobody' then return -1; end if;
    if cls = 'shared' then
        execute format('select count(*) from refuge.%I', t) into n;
        return n;
    elsif cls = 'staff' then
        if r = 'tap_admin' then execute format('select count(*) from refuge.%I', t) into n; return n;
        elsif r in ('tap_reg_ken', 'tap_reg_kakuma', 'tap_expired') then
            execute format('select count(*) from refuge.%I where role_name = %L', t, r) into n; return n;
        elsif r = 'tap_sup_ken' then
            if t = 'staff' then
                select count(distinct role_name) into n from refuge.staff_assignment where operation_id = ken;
            else
                select count(*) into n from refuge.staff_assignment where operation_id = ken;
            end if;
            return n;
        end if;
        return -1;
    elsif cls in ('person', 'person_child') then
        if r not in ('tap_reg_ken', 'tap_reg_kakuma', 'tap_sup_ken', 'tap_expired') then return -1; end if;
        if r = 'tap_expired' then return 0; end if;
        opfilter := case when r = 'tap_reg_kakuma' then format('site_id = %L', kakuma)
                         else format('operation_id = %L', ken) end;
        if cls = 'person' then
            execute format('select count(*) from refuge.%I where %s', t, opfilter) into n;
        else
            execute format('select count(*) from refuge.%I x where exists (select 1 from refuge.individual i
                            where i.id = x.individual_id and i.%s)', t, opfilter) into n;
        end if;
        return n;
    elsif cls = 'audit' then
        if r = 'tap_sup_ken' then select count(*) into n from refuge.audit_log where operation_id = ken; return n;
        elsif r = 'tap_admin' then select count(*) into n from refuge.audit_log where operation_id is null; return n;
        end if;
        return -1;
    end if;
    return -1;   -- internal
end
$$;

-- What a role actually gets for one command: a row count, 'denied', or the SQLSTATE.
create function pg_temp.attempt(t text, r text, cmd text) returns text language plpgsql as $$
declare
    n bigint;
    col text := (select attname from pg_attribute where attrelid = ('refuge.' || t)::regclass
                  and attnum > 0 and not attisdropped and attidentity = '' and attgenerated = ''
                order by attnum limit 1);
    result text;
begin
    execute format('set local role %I', r);
    begin
        if cmd = 'select' then
            execute format('select count(*) from refuge.%I', t) into n;
            result := n::text;
        elsif cmd = 'insert' then
            execute format('insert into refuge.%I default values', t);
            result := 'inserted';
        elsif cmd = 'update' then
            execute format('update refuge.%I set %I = %I', t, col, col);
            get diagnostics n = row_count;
            result := 'updated ' || n;
        else
            execute format('delete from refuge.%I', t);
            get diagnostics n = row_count;
            result := 'deleted ' || n;
        end if;
    exception when insufficient_privilege then
        result := 'denied';
    when others then
        result := sqlstate;
    end;
    reset role;
    return result;
end
$$;

select plan((select 2 + count(*)::int * 7 * 4 from access_class));

select is((select array_agg(tab order by tab) from access_class where class is null), null,
          'every table of schema refuge has an access class');
select cmp_ok((select count(*) from access_class where class in ('person', 'person_child')), '>=', 14::bigint,
              'the registration tables are all classified as personal data');

select is(pg_temp.attempt(t.tab, r.role, 'select'),
          case when pg_temp.expected(t.tab, r.role) = -1 then 'denied' else pg_temp.expected(t.tab, r.role)::text end,
          format('%s: select on %s', r.role, t.tab))
  from access_class t,
       unnest(array['tap_reg_ken', 'tap_reg_kakuma', 'tap_sup_ken', 'tap_analyst', 'tap_admin', 'tap_nobody', 'tap_expired']) r(role)
 order by t.tab, r.role;

select is(pg_temp.attempt(t.tab, r.role, c.cmd), 'denied', format('%s: %s on %s', r.role, c.cmd, t.tab))
  from access_class t,
       unnest(array['tap_reg_ken', 'tap_reg_kakuma', 'tap_sup_ken', 'tap_analyst', 'tap_admin', 'tap_nobody', 'tap_expired']) r(role),
       unnest(array['insert', 'update', 'delete']) c(cmd)
 order by t.tab, r.role, c.cmd;

select * from finish();
rollback;
