-- Moves, splits and merges keep one group per person at a time, exactly one
-- principal representative per group, and the full membership history.
\set VERBOSITY terse
set client_min_messages = warning;
create function pg_temp.n(t text) returns text language sql as $$ select regexp_replace(t, '-\d{2}-', '-YY-', 'g') $$;
create function pg_temp.try(q text) returns text language plpgsql as $$
begin execute q; return 'ok'; exception when others then return sqlstate || ': ' || regexp_replace(pg_temp.n(sqlerrm), '[0-9a-f]{8}-[0-9a-f-]{27}', 'UUID', 'g'); end $$;
create function pg_temp.id(given text) returns uuid language sql as $$ select id from refuge.individual where given_name = given $$;
create function pg_temp.gid(given text) returns uuid language sql as $$
  select group_id from refuge.group_membership where individual_id = pg_temp.id(given) and valid_to is null $$;
create function pg_temp.members() returns table (grp text, status text, person text, relationship text) language sql as $$
  select pg_temp.n(g.number), g.status, i.given_name, gm.relationship
    from refuge.registration_group g
    left join refuge.group_membership gm on gm.group_id = g.id and gm.valid_to is null
    left join refuge.individual i on i.id = gm.individual_id
   order by g.number, gm.relationship <> 'PA', i.given_name $$;

select refuge.create_operation('UGA', 'UGA', 'Uganda') is not null;
select refuge.create_operation('KEN', 'KEN', 'Kenya') is not null;
select refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP') is not null;
select refuge.create_site('UGA', 'KAMPALA', 'Kampala urban', 'URBAN') is not null;
select refuge.create_site('KEN', 'DADAAB', 'Dadaab', 'CAMP') is not null;
select refuge.register_group('{"operation": "UGA", "site": "NAKIVALE", "registration_level": "BASIC", "population_type": "REF",
  "members": [{"relationship": "PA", "given_name": "Jean", "family_name": "Habimana", "sex": "M"},
              {"relationship": "WIF", "given_name": "Claudine", "family_name": "Habimana", "sex": "F"},
              {"relationship": "SON", "given_name": "Eric", "family_name": "Habimana", "sex": "M", "date_of_birth": "2001-02-03"},
              {"relationship": "CLF", "given_name": "Aline", "family_name": "Uwase", "sex": "F", "date_of_birth": "2002-03-04"}]}')
  is not null as family;
select refuge.register_group('{"operation": "UGA", "site": "KAMPALA", "registration_level": "BASIC", "population_type": "REF",
  "members": [{"relationship": "PA", "given_name": "Grace", "family_name": "Mukamana", "sex": "F"}]}') is not null as grandmother;
select refuge.register_group('{"operation": "KEN", "site": "DADAAB", "registration_level": "BASIC", "population_type": "REF",
  "members": [{"relationship": "PA", "given_name": "Omar", "family_name": "Ali", "sex": "M"}]}') is not null as other_operation;
select * from pg_temp.members();

-- split: the married son and his wife form their own group
select pg_temp.n(refuge.split_group(pg_temp.gid('Jean'), jsonb_build_array(
          jsonb_build_object('individual_id', pg_temp.id('Eric'), 'relationship', 'PA'),
          jsonb_build_object('individual_id', pg_temp.id('Aline'), 'relationship', 'WIF')),
       'married couple registered as own household') ->> 'group_number') as new_group;
select * from pg_temp.members();

-- a split must leave one principal representative in each group
select pg_temp.try(format($q$select refuge.split_group(%L, %L, 'x')$q$, pg_temp.gid('Jean'),
       jsonb_build_array(jsonb_build_object('individual_id', pg_temp.id('Jean'), 'relationship', 'PA')))) as principal_leaves;
select pg_temp.try(format($q$select refuge.split_group(%L, %L, 'x')$q$, pg_temp.gid('Jean'),
       jsonb_build_array(jsonb_build_object('individual_id', pg_temp.id('Claudine'), 'relationship', 'WIF')))) as no_principal_in_new;
select pg_temp.try(format($q$select refuge.split_group(%L, %L, 'x')$q$, pg_temp.gid('Jean'),
       jsonb_build_array(jsonb_build_object('individual_id', pg_temp.id('Grace'), 'relationship', 'PA')))) as not_a_member;
select pg_temp.try(format($q$select refuge.split_group(%L, %L, '  ')$q$, pg_temp.gid('Jean'),
       jsonb_build_array(jsonb_build_object('individual_id', pg_temp.id('Claudine'), 'relationship', 'PA')))) as no_reason;

-- merge: the grandmother joins the family; her group is closed
select pg_temp.n(refuge.merge_groups(pg_temp.gid('Jean'), pg_temp.gid('Grace'),
       jsonb_build_object(pg_temp.id('Grace'), 'PRF'), 'reunited with son') ->> 'group_number') as merged_into;
select * from pg_temp.members();
select pg_temp.try(format($q$select refuge.merge_groups(%L, %L, '{}', 'x')$q$, pg_temp.gid('Jean'), pg_temp.gid('Omar'))) as across_operations;

-- move one person back; the principal representative can change
select refuge.move_individual(pg_temp.id('Grace'), pg_temp.gid('Eric'), 'GPF', 'lives with grandson');
select refuge.set_principal(pg_temp.gid('Jean'), pg_temp.id('Claudine'), 'HUS');
select * from pg_temp.members();
select pg_temp.try(format($q$select refuge.move_individual(%L, %L, 'PA', 'x')$q$, pg_temp.id('Jean'), pg_temp.gid('Eric'))) as two_principals;

-- full history of one person; the moved person's site follows the group
select pg_temp.n(g.number) as grp, gm.relationship, gm.start_reason, gm.end_reason, gm.comment, gm.valid_to is null as current
  from refuge.group_membership gm join refuge.registration_group g on g.id = gm.group_id
 where gm.individual_id = pg_temp.id('Grace') order by gm.valid_from, gm.valid_to nulls last;
select i.given_name, s.code from refuge.individual i join refuge.site s on s.id = i.site_id
 where i.given_name in ('Grace', 'Eric') order by 1;
select count(*) = count(distinct individual_id) as one_group_each
  from refuge.group_membership where valid_to is null;

-- leave the database as found for the next suite
-- (TRUNCATE is refused on refuge's tables: the extension is installed anew)
\i test/lib/reinstall.sql
