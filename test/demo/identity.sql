-- Demo, identity management: who is enrolled with which synthetic person,
-- and the procedure each operation's biometric operator runs.  Every
-- principal applicant is a synthetic person (10 fingers, 2 irises); each
-- admitted planted duplicate presents a new capture of the original's
-- biometrics, one in four of them with only one finger (the others
-- "bandaged") and no irises.

create table demo.enrol_queue (
    individual_id uuid primary key, person bigint not null, capture int not null, op text not null,
    phase int not null, one_finger boolean not null, original uuid);
insert into demo.enrol_queue
select i.id, row_number() over (order by i.number), 0, o.code, 1, false, null
  from refuge.individual i
  join refuge.operation o on o.id = i.operation_id
  join refuge.group_membership gm on gm.individual_id = i.id and gm.valid_to is null and gm.relationship = 'PA'
 where not exists (select 1 from demo.duplicate_attempt d where d.duplicate_individual = i.id);
insert into demo.enrol_queue
select d.duplicate_individual, q.person, 1, d.operation, 2, row_number() over (order by d.duplicate_individual) % 4 = 0,
       d.original_individual
  from demo.duplicate_attempt d join demo.enrol_queue q on q.individual_id = d.original_individual
 where d.duplicate_individual is not null;

create table demo.enrol_result (individual_id uuid primary key, decision text, result jsonb, ms float8);

-- A face image for the vault (a 1x1 PNG) for the first people of each operation.
create function demo.templates(q demo.enrol_queue) returns jsonb language sql immutable as $$
    select case
        when q.one_finger then
            jsonb_build_object('fingers', jsonb_build_array(refuge.synthetic_templates(2026, q.person, q.capture) -> 'fingers' -> 1),
                'missing', (select jsonb_agg(jsonb_build_object('part', p, 'reason', 'BANDAGED'))
                              from unnest(array['finger_1', 'finger_3', 'finger_4', 'finger_5', 'finger_6', 'finger_7',
                                                'finger_8', 'finger_9', 'finger_10', 'iris_right', 'iris_left']) p))
        else refuge.synthetic_templates(2026, q.person, q.capture) end
        || jsonb_build_object('capture', jsonb_build_object('device', 'demo kit ' || q.op))
        || case when q.person % 400 = 1 then jsonb_build_object('images', jsonb_build_array(jsonb_build_object(
               'part', 'face', 'media_type', 'image/png',
               'data', 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')))
           else '{}' end
$$;

-- One operator's run: every queued person of an operation and phase, one
-- transaction each (the enrolment lock is held only to each commit).
create procedure demo.enrol_all(p_op text, p_phase int) language plpgsql as $$
declare
    q demo.enrol_queue;
    r jsonb;
    t0 timestamptz;
begin
    for q in select * from demo.enrol_queue where op = p_op and phase = p_phase order by person loop
        t0 := clock_timestamp();
        r := refuge.enrol_biometrics(q.individual_id, demo.templates(q));
        insert into demo.enrol_result values (q.individual_id, r ->> 'decision', r,
                                              extract(epoch from clock_timestamp() - t0) * 1000);
        commit;
    end loop;
end $$;

grant usage on schema demo to refuge_biometrics, refuge_biometrics_admin, refuge_supervisor, refuge_assistance;
grant select on demo.enrol_queue, demo.duplicate_attempt to refuge_biometrics, refuge_biometrics_admin, refuge_supervisor,
    refuge_assistance;
grant insert, select on demo.enrol_result to refuge_biometrics;
grant select on demo.enrol_result to refuge_biometrics_admin, refuge_supervisor;
grant execute on function demo.templates(demo.enrol_queue) to refuge_biometrics, refuge_assistance;
grant execute on procedure demo.enrol_all(text, int) to refuge_biometrics;
