-- Reads of biometric templates are logged like other sensitive records: HQ
-- biometrics administrators no longer select the gallery tables directly
-- but read one person's templates through refuge.biometric_templates(),
-- which records who, when and why in refuge.sensitive_read.  Enrolment,
-- verification and adjudication read the gallery inside the API as before.

drop policy hq_read on refuge.biometric_finger;
drop policy hq_read on refuge.biometric_iris;
drop policy hq_read on refuge.biometric_capture;
revoke select on refuge.biometric_finger, refuge.biometric_iris, refuge.biometric_capture from refuge_biometrics_admin;

create function refuge.biometric_templates(individual_id uuid, purpose text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
begin
    perform refuge.authorize('refuge_biometrics_admin', 'biometric_templates');
    select * into p from refuge.individual i where i.id = biometric_templates.individual_id;
    if not found then
        perform refuge.raise_field('P0002', 'individual_id', format('no individual %s', biometric_templates.individual_id));
    end if;
    if purpose is null or btrim(purpose) = '' then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why these biometric templates are read');
    end if;
    insert into refuge.sensitive_read (actor, kind, object_id, individual_id, operation_id, purpose)
    values (refuge.caller(), 'biometric_templates', p.id, p.id, p.operation_id, purpose);
    return jsonb_build_object('individual_id', p.id, 'number', p.number,
        'fingers', coalesce((select jsonb_agg(jsonb_build_object('position', f.position, 'quality', f.quality,
                                                                 'template', f.template::text) order by f.position)
                               from refuge.biometric_finger f where f.individual_id = p.id), '[]'),
        'irises', coalesce((select jsonb_agg(jsonb_build_object('eye', i.eye, 'quality', i.quality,
                                                                'template', i.template::text) order by i.eye)
                              from refuge.biometric_iris i where i.individual_id = p.id), '[]'));
end
$$;
