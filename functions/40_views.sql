-- Convenience views for SQL users.  security_invoker: the caller's
-- row-level security applies, exactly as on the tables.

create view refuge.current_member with (security_invoker = true) as
select g.id as group_id, g.number as group_number, g.operation_id, g.site_id,
       i.id as individual_id, i.number as individual_number, gm.relationship,
       i.given_name, i.middle_name, i.family_name, i.sex, i.date_of_birth, i.dob_precision,
       date_part('year', age(current_date, i.date_of_birth))::integer as age,
       i.population_type, i.registration_level, i.status, gm.valid_from as member_since
  from refuge.group_membership gm
  join refuge.registration_group g on g.id = gm.group_id
  join refuge.individual i on i.id = gm.individual_id
 where gm.valid_to is null;
comment on view refuge.current_member is 'current members of registration groups, principal representative first when ordered by relationship = ''PA'' desc';

-- The route of a person's flight as a line through the located legs, in order.
create function refuge.flight_route(individual_id uuid) returns geometry
    language sql stable parallel safe
begin atomic
    select case when count(f.location) >= 2
                then refuge.make_line(array_agg(f.location order by f.seq) filter (where f.location is not null))
           end
      from refuge.flight_leg f
     where f.individual_id = flight_route.individual_id;
end;

-- UNHCR age bracket of a date of birth on a given date (profile STD by default).
create function refuge.age_bracket(date_of_birth date, on_date date default current_date, profile text default 'STD')
    returns text
    language sql stable parallel safe
begin atomic
    select coalesce((select b.code from refuge.age_bracket b
                      where b.profile = age_bracket.profile
                        and date_part('year', age(on_date, date_of_birth)) >= b.min_age
                        and (b.max_age is null or date_part('year', age(on_date, date_of_birth)) <= b.max_age)
                      order by b.min_age desc limit 1),
                    'unknown');
end;
