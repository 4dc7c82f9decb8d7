-- Case notes, interview transcripts, attachments and SGBV incidents.
-- Confidential text is sealed with the vault key (AES-256-GCM in C; the key
-- is read by the server from refuge.vault_key_file, never passed in SQL), the
-- row id as associated data so a sealed value cannot be moved to another row.
-- Reads of confidential items and of any item of a sensitive module go
-- through functions that log them in refuge.sensitive_read.

create function refuge.log_sensitive_read(p_kind text, p_object uuid, c refuge.process_case, p_purpose text)
    returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if p_purpose is null or btrim(p_purpose) = '' then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why this sensitive record is read');
    end if;
    insert into refuge.sensitive_read (actor, kind, object_id, case_id, individual_id, operation_id, purpose)
    values (refuge.caller(), p_kind, p_object, c.id, c.principal_id, c.operation_id, p_purpose);
end
$$;

create function refuge.add_case_note(case_id uuid, body text, confidential boolean default false, kind text default 'NOTE')
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    new_id uuid := gen_random_uuid();
begin
    c := refuge.case_for_update(add_case_note.case_id, 'add_case_note');
    perform refuge.require_text(body, 'body');
    if confidential is null then
        perform refuge.raise_field('22004', 'confidential', 'is required');
    end if;
    if kind is null or kind not in ('NOTE', 'INTERVIEW_TRANSCRIPT', 'ASSESSMENT', 'DECISION') then
        perform refuge.raise_field('22023', 'kind', format('"%s" is not NOTE, INTERVIEW_TRANSCRIPT, ASSESSMENT or DECISION', kind));
    end if;
    insert into refuge.case_note (id, case_id, kind, confidential, body, sealed, author)
    values (new_id, c.id, kind, confidential,
            case when not confidential then body end,
            case when confidential then refuge.vault_seal(convert_to(body, 'UTF8'), 'case_note:' || new_id) end,
            refuge.caller());
    perform refuge.note_case_event(c, 'NOTE', null,
                                   jsonb_build_object('note_id', new_id, 'kind', kind, 'confidential', confidential));
    return new_id;
end
$$;

-- The text of a note, for those who work the case; confidential notes and
-- the notes of sensitive modules are logged with the purpose given.
create function refuge.read_case_note(note_id uuid, purpose text default null) returns text
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    n refuge.case_note;
    c refuge.process_case;
begin
    select * into n from refuge.case_note x where x.id = note_id;
    if not found then
        perform refuge.raise_field('P0002', 'note_id', format('no note %s', note_id));
    end if;
    c := refuge.case_for_update(n.case_id, 'read_case_note', false);
    if n.confidential or (select m.sensitive from refuge.case_module m where m.code = c.module) then
        perform refuge.log_sensitive_read('case_note', n.id, c, purpose);
    end if;
    if not n.confidential then
        return n.body;
    end if;
    return convert_from(refuge.vault_open(n.sealed, 'case_note:' || n.id), 'UTF8');
end
$$;

create function refuge.add_case_document(case_id uuid, title text, media_type text, content bytea,
                                         confidential boolean default false)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    new_id uuid := gen_random_uuid();
begin
    c := refuge.case_for_update(add_case_document.case_id, 'add_case_document');
    perform refuge.require_text(title, 'title');
    if media_type is null or media_type !~ '^[a-z]+/[A-Za-z0-9.+-]+$' then
        perform refuge.raise_field('22023', 'media_type', format('"%s" is not a media type such as application/pdf', media_type));
    end if;
    if content is null or length(content) = 0 then
        perform refuge.raise_field('22004', 'content', 'is required');
    end if;
    if length(content) > 50 * 1024 * 1024 then
        perform refuge.raise_field('54000', 'content', format('%s bytes is more than the 50 MB an attachment may have', length(content)));
    end if;
    if confidential is null then
        perform refuge.raise_field('22004', 'confidential', 'is required');
    end if;
    insert into refuge.case_document (id, case_id, title, media_type, size_bytes, sha256, confidential, content, sealed, author)
    values (new_id, c.id, title, media_type, length(content), sha256(content), confidential,
            case when not confidential then content end,
            case when confidential then refuge.vault_seal(content, 'case_document:' || new_id) end,
            refuge.caller());
    perform refuge.note_case_event(c, 'DOCUMENT', null,
                                   jsonb_build_object('document_id', new_id, 'title', title, 'confidential', confidential));
    return new_id;
end
$$;

create function refuge.read_case_document(document_id uuid, purpose text default null) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    d refuge.case_document;
    c refuge.process_case;
    content bytea;
begin
    select * into d from refuge.case_document x where x.id = document_id;
    if not found then
        perform refuge.raise_field('P0002', 'document_id', format('no document %s', document_id));
    end if;
    c := refuge.case_for_update(d.case_id, 'read_case_document', false);
    if d.confidential or (select m.sensitive from refuge.case_module m where m.code = c.module) then
        perform refuge.log_sensitive_read('case_document', d.id, c, purpose);
    end if;
    content := case when d.confidential then refuge.vault_open(d.sealed, 'case_document:' || d.id) else d.content end;
    if sha256(content) <> d.sha256 then
        raise exception using errcode = 'XX001', message = format('document %s does not match its digest', d.id);
    end if;
    return content;
end
$$;

-- Record the incident of an SGBV case: GBVIMS classification, the
-- survivor's consent to services and to sharing, the narrative sealed.
create function refuge.record_gbv_incident(case_id uuid, incident jsonb) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    vt text;
    details jsonb;
begin
    c := refuge.case_for_update(record_gbv_incident.case_id, 'record_gbv_incident');
    if c.module <> 'SGBV' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not SGBV', c.number, c.module));
    end if;
    perform refuge.arg_fields(incident, 'incident', array['violence_type', 'incident_date', 'consent_services',
        'consent_sharing', 'narrative', 'location', 'perpetrator', 'reported_on']);
    vt := refuge.arg_text(incident, 'violence_type', 'incident', true, 40);
    if vt not in ('RAPE', 'SEXUAL_ASSAULT', 'PHYSICAL_ASSAULT', 'FORCED_MARRIAGE', 'DENIAL_OF_RESOURCES',
                  'PSYCHOLOGICAL_ABUSE', 'NON_GBV') then
        perform refuge.raise_field('22023', 'incident.violence_type', format('"%s" is not a GBVIMS type (RAPE, SEXUAL_ASSAULT, '
            'PHYSICAL_ASSAULT, FORCED_MARRIAGE, DENIAL_OF_RESOURCES, PSYCHOLOGICAL_ABUSE, NON_GBV)', vt));
    end if;
    if refuge.arg_bool(incident, 'consent_services', 'incident') is null then
        perform refuge.raise_field('22004', 'incident.consent_services', 'is required (true or false)');
    end if;
    if refuge.arg_bool(incident, 'consent_sharing', 'incident') is null then
        perform refuge.raise_field('22004', 'incident.consent_sharing', 'is required (true or false)');
    end if;
    details := jsonb_strip_nulls(jsonb_build_object('narrative', refuge.arg_text(incident, 'narrative', 'incident', true),
        'location', refuge.arg_text(incident, 'location', 'incident'),
        'perpetrator', refuge.arg_text(incident, 'perpetrator', 'incident')));
    insert into refuge.gbv_incident as g (case_id, violence_type, incident_date, reported_on, consent_services,
                                          consent_sharing, sealed)
    values (c.id, vt, refuge.arg_date(incident, 'incident_date', 'incident', false, false),
            coalesce(refuge.arg_date(incident, 'reported_on', 'incident', false, false), current_date),
            (incident ->> 'consent_services')::boolean, (incident ->> 'consent_sharing')::boolean,
            refuge.vault_seal(convert_to(details::text, 'UTF8'), 'gbv_incident:' || c.id))
    on conflict on constraint gbv_incident_pkey do update
       set violence_type = excluded.violence_type, incident_date = excluded.incident_date,
           reported_on = excluded.reported_on, consent_services = excluded.consent_services,
           consent_sharing = excluded.consent_sharing, sealed = excluded.sealed;
    perform refuge.note_case_event(c, 'INCIDENT_RECORDED', null,
        jsonb_build_object('violence_type', vt, 'consent_services', incident -> 'consent_services',
                           'consent_sharing', incident -> 'consent_sharing'));
end
$$;

create function refuge.read_gbv_incident(case_id uuid, purpose text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    g refuge.gbv_incident;
begin
    c := refuge.case_for_update(read_gbv_incident.case_id, 'read_gbv_incident', false);
    select * into g from refuge.gbv_incident x where x.case_id = c.id;
    if not found then
        perform refuge.raise_field('P0002', 'case_id', format('case %s has no incident recorded', c.number));
    end if;
    perform refuge.log_sensitive_read('gbv_incident', c.id, c, purpose);
    return jsonb_build_object('case_number', c.number, 'violence_type', g.violence_type, 'incident_date', g.incident_date,
                              'reported_on', g.reported_on, 'consent_services', g.consent_services,
                              'consent_sharing', g.consent_sharing)
           || convert_from(refuge.vault_open(g.sealed, 'gbv_incident:' || c.id), 'UTF8')::jsonb;
end
$$;
