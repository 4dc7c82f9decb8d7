-- Sharing cases: transfers between operations, referrals to partners.

-- Transfers of cases between operations and sites, and referrals to
-- partner organisations that share chosen parts of a case until the
-- referral is closed, revoked or expires.
create function refuge.request_case_transfer(case_id uuid, to_operation text, to_site text default null,
                                             reason text default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    op uuid;
    st uuid;
    new_id uuid;
begin
    c := refuge.open_case_for_update(request_case_transfer.case_id, 'request_case_transfer');
    perform refuge.require_text(reason, 'reason');
    select o.id into op from refuge.operation o where o.code = to_operation;
    if op is null then
        perform refuge.raise_field('23503', 'to_operation', format('unknown operation "%s"', to_operation));
    end if;
    if to_site is not null then
        select s.id into st from refuge.site s where s.operation_id = op and s.code = to_site;
        if st is null then
            perform refuge.raise_field('23503', 'to_site', format('unknown site "%s" in operation %s', to_site, to_operation));
        end if;
    end if;
    if op = c.operation_id and st is not distinct from c.site_id then
        perform refuge.raise_field('22023', 'to_operation', format('case %s is already there', c.number));
    end if;
    insert into refuge.case_transfer (case_id, from_operation, from_site, to_operation, to_site, reason, requested_by)
    values (c.id, c.operation_id, c.site_id, op, st, reason, refuge.caller())
    returning id into new_id;
    perform refuge.note_case_event(c, 'TRANSFER_REQUESTED', reason,
        jsonb_build_object('transfer_id', new_id, 'to_operation', to_operation, 'to_site', to_site));
    c.operation_id := op;    -- the alert goes to the receiving operation
    perform refuge.raise_case_alert(c, 'TRANSFER', format('case %s: transfer requested to %s', c.number, to_operation),
                                    (select m.roles[1] from refuge.case_module m where m.code = c.module));
    return new_id;
exception when unique_violation then
    perform refuge.raise_field('23505', 'case_id', format('case %s already has a transfer awaiting a decision', c.number));
end
$$;
comment on function refuge.request_case_transfer(uuid, text, text, text) is
    'ask another operation (or site) to take a case; returns the transfer id';
grant execute on function refuge.request_case_transfer(uuid, text, text, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create function refuge.decide_case_transfer(transfer_id uuid, decision text, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t refuge.case_transfer;
    c refuge.process_case;
begin
    if decision is null or decision not in ('ACCEPT', 'REJECT', 'CANCEL') then
        perform refuge.raise_field('22023', 'decision', format('"%s" is not ACCEPT, REJECT or CANCEL', refuge.excerpt(decision)));
    end if;
    select * into t from refuge.case_transfer x where x.id = transfer_id;
    select * into c from refuge.process_case p where p.id = t.case_id;
    -- who requested it, works the case, or works its module where it goes
    perform refuge.require_visible(t.id is not null and c.id is not null
        and (t.requested_by = refuge.caller() or refuge.may_work_case(c.module, c.operation_id, c.site_id)
             or refuge.may_work_case(c.module, t.to_operation, t.to_site)), 'transfer_id');
    select * into c from refuge.process_case p where p.id = t.case_id for update;
    select * into t from refuge.case_transfer x where x.id = transfer_id for update;
    if decision = 'CANCEL' then
        if t.requested_by <> refuge.caller() and not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
            raise exception using errcode = '42501',
                message = format('decide_case_transfer: role %s may not cancel this transfer', refuge.caller());
        end if;
    elsif not refuge.may_work_case(c.module, t.to_operation, t.to_site) then
        raise exception using errcode = '42501',
            message = format('decide_case_transfer: role %s does not work %s cases in the receiving operation', refuge.caller(), c.module);
    end if;
    if t.status <> 'REQUESTED' then
        perform refuge.raise_field('55000', 'transfer_id', format('transfer %s is already %s', t.id, lower(t.status)));
    end if;
    update refuge.case_transfer x
       set status = case decision when 'ACCEPT' then 'ACCEPTED' when 'REJECT' then 'REJECTED' else 'CANCELLED' end,
           decided_by = refuge.caller(), decided_at = now(), decision_reason = decide_case_transfer.reason
     where x.id = t.id;
    if decision = 'ACCEPT' then
        update refuge.process_case p set operation_id = t.to_operation, site_id = t.to_site, assigned_to = null
         where p.id = c.id;
        update refuge.case_alert a set operation_id = t.to_operation where a.case_id = c.id and a.acknowledged_at is null;
    end if;
    perform refuge.note_case_event(c, 'TRANSFER_' || decision || case decision when 'CANCEL' then 'LED' else 'ED' end, reason,
        jsonb_build_object('transfer_id', t.id,
                           'from_operation', (select code from refuge.operation where id = t.from_operation),
                           'to_operation', (select code from refuge.operation where id = t.to_operation)));
    return jsonb_build_object('transfer_id', t.id, 'case_id', c.id, 'number', c.number,
                              'status', lower(decision) || case decision when 'CANCEL' then 'led' else 'ed' end);
end
$$;
comment on function refuge.decide_case_transfer(uuid, text, text) is
    'accept or reject a transfer (receiving side) or cancel it (requester)';
grant execute on function refuge.decide_case_transfer(uuid, text, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- Refer a case to a partner, sharing the listed parts (refuge.referral_field)
-- under a sharing agreement with that partner that covers purpose REFERRAL
-- and those parts, with the principal's consent to referral (when its legal
-- basis is consent); never beyond the agreement's end.  SGBV cases are
-- shared only with the survivor's consent to sharing.
create function refuge.refer_case(case_id uuid, partner text, fields text[], purpose text, valid_until date default null,
                                  agreement text default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    pid uuid;
    f text;
    new_id uuid;
    a refuge.sharing_agreement;
    until date := valid_until;
begin
    c := refuge.open_case_for_update(refer_case.case_id, 'refer_case');
    select p.id into pid from refuge.partner_organisation p where p.code = partner;
    if pid is null then
        perform refuge.raise_field('23503', 'partner', format('unknown partner "%s"', partner));
    end if;
    if fields is null or cardinality(fields) = 0 then
        perform refuge.raise_field('22004', 'fields', format('is required: the parts shared (%s)',
            (select string_agg(code, ', ' order by code) from refuge.referral_field)));
    end if;
    foreach f in array fields loop
        if not exists (select 1 from refuge.referral_field r where r.code = f) then
            perform refuge.raise_field('22023', 'fields', format('"%s" is not one of %s', f,
                (select string_agg(code, ', ' order by code) from refuge.referral_field)));
        end if;
    end loop;
    if c.module = 'SGBV' and not coalesce((select g.consent_sharing from refuge.gbv_incident g where g.case_id = c.id), false) then
        perform refuge.raise_field('55000', 'case_id',
            format('case %s: the survivor has not consented to sharing information', c.number));
    end if;
    if 'INCIDENT' = any (fields) and c.module <> 'SGBV' then
        perform refuge.raise_field('22023', 'fields', 'INCIDENT is shared only from SGBV cases');
    end if;
    perform refuge.require_text(purpose, 'purpose');
    if valid_until is not null and valid_until < current_date then
        perform refuge.raise_field('22008', 'valid_until', format('%s is in the past', refuge.iso(valid_until)));
    end if;
    a := refuge.agreement_for(agreement, 'PARTNER', pid, 'REFERRAL', fields, 'agreement');
    perform refuge.require_referral_consent(c, fields, a.id);
    if until > a.valid_until then
        perform refuge.raise_field('22008', 'valid_until', format('%s is after the end of agreement %s (%s)', refuge.iso(until),
                                                                a.code, refuge.iso(a.valid_until)));
    end if;
    until := coalesce(until, a.valid_until);
    insert into refuge.case_referral (case_id, partner_id, fields, purpose, valid_until, referred_by, agreement_id)
    values (c.id, pid, (select array_agg(distinct x order by x) from unnest(fields) x), purpose, until, refuge.caller(), a.id)
    returning id into new_id;
    perform refuge.note_case_event(c, 'REFERRED', purpose,
        jsonb_build_object('referral_id', new_id, 'partner', partner, 'fields', fields, 'agreement', a.code));
    perform refuge.raise_case_alert(c, 'REFERRAL', format('case %s referred to %s', c.number, partner), 'refuge_partner');
    return new_id;
end
$$;
comment on function refuge.refer_case(uuid, text, text[], text, date, text) is
    'refer a case to a partner under a sharing agreement: the fields shared, the purpose, until a date (agreement and consent checked)';
grant execute on function refuge.refer_case(uuid, text, text[], text, date, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create function refuge.end_referral(referral_id uuid, status text, reason text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r refuge.case_referral;
    c refuge.process_case;
    works_case boolean;
begin
    if status is null or status not in ('CLOSED', 'REVOKED') then
        perform refuge.raise_field('22023', 'status', format('"%s" is not CLOSED or REVOKED', refuge.excerpt(status)));
    end if;
    perform refuge.require_text(reason, 'reason');
    select * into r from refuge.case_referral x where x.id = referral_id for update;
    select * into c from refuge.process_case p where p.id = r.case_id;
    works_case := c.id is not null and refuge.may_work_case(c.module, c.operation_id, c.site_id);
    if r.id is null or not (works_case or coalesce(r.partner_id = refuge.caller_partner(), false)) then
        perform refuge.raise_field('P0002', 'referral_id', 'not found among your referrals');
    end if;
    -- the partner closes (it has finished); revoking is the case worker's
    if not works_case and status <> 'CLOSED' then
        raise exception using errcode = '42501',
            message = format('end_referral: role %s may close this referral, not revoke it', refuge.caller());
    end if;
    if r.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'referral_id', format('is already %s', lower(r.status)));
    end if;
    update refuge.case_referral x set status = end_referral.status, ended_by = refuge.caller(), ended_at = now(),
                                      end_reason = left(reason, 2000)
     where x.id = r.id;
    perform refuge.note_case_event(c, 'REFERRAL_' || status, left(reason, 2000), jsonb_build_object('referral_id', r.id));
end
$$;
comment on function refuge.end_referral(uuid, text, text) is
    'close (the partner) or revoke (the case worker) a referral, with the reason';
grant execute on function refuge.end_referral(uuid, text, text) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;

create function refuge.referred_cases()
    returns table (referral_id uuid, case_number text, module text, fields text[], purpose text,
                   referred_at timestamptz, valid_until date)
    language sql stable security definer
    set search_path = pg_catalog, pg_temp
    -- (dates of validity are UTC's, whatever the caller's time zone)
    set timezone = 'UTC'
begin atomic
    select r.id, c.number, c.module, r.fields, r.purpose, r.referred_at, r.valid_until
      from refuge.case_referral r join refuge.process_case c on c.id = r.case_id
     where r.partner_id = refuge.caller_partner() and r.status = 'ACTIVE'
       and (r.valid_until is null or r.valid_until >= current_date)
       -- the agreement it was made under is in force, the principal still consents
       and refuge.agreement_in_force((select a from refuge.sharing_agreement a where a.id = r.agreement_id))
       and refuge.referral_consented(c.id, r.fields, r.agreement_id)
       and (c.module <> 'SGBV'
            or coalesce((select g.consent_sharing from refuge.gbv_incident g where g.case_id = c.id), false))
     order by r.referred_at;
end;
comment on function refuge.referred_cases() is
    'the partner''s active referrals (no case content)';
grant execute on function refuge.referred_cases() to refuge_partner;

create function refuge.referred_case(referral_id uuid, purpose text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set timezone = 'UTC'
as $$
declare
    r refuge.case_referral;
    c refuge.process_case;
    res jsonb;
    g refuge.gbv_incident;
    a refuge.sharing_agreement;
begin
    perform refuge.authorize('refuge_partner', 'referred_case');
    select * into r from refuge.case_referral x where x.id = referral_id;
    if not found or r.partner_id is distinct from refuge.caller_partner() then
        perform refuge.raise_field('P0002', 'referral_id', 'not found among your organisation''s referrals');
    end if;
    select * into c from refuge.process_case p where p.id = r.case_id;
    -- consent is checked at every read, not only when the case was referred
    if r.status = 'ACTIVE' and c.module = 'SGBV'
       and not coalesce((select gi.consent_sharing from refuge.gbv_incident gi where gi.case_id = c.id), false) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s ended: the survivor has not consented to sharing', r.id);
    end if;
    if r.status <> 'ACTIVE' or (r.valid_until is not null and r.valid_until < current_date) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s is %s', r.id,
                             case when r.status <> 'ACTIVE' then lower(r.status) else 'expired' end);
    end if;
    -- the agreement must be in force and the consent valid at every read
    select * into a from refuge.sharing_agreement x where x.id = r.agreement_id;
    if not refuge.agreement_in_force(a) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s rests on no agreement in force (%s)', r.id,
                             case when a.id is null then 'made before agreements were required'
                                  when a.status <> 'ACTIVE' then a.code || ' is ' || lower(a.status)
                                  else a.code || ' is valid ' || refuge.iso(a.valid_from) || ' to ' || refuge.iso(a.valid_until) end);
    end if;
    if not refuge.referral_consented(c.id, r.fields, a.id) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s ended: the person''s consent to referral is withdrawn or expired', r.id);
    end if;
    perform refuge.log_sensitive_read('referral', r.id, c, coalesce(purpose, r.purpose) || ' (' || a.party_name || ', agreement ' || a.code || ')');
    res := jsonb_build_object('referral_id', r.id, 'fields', r.fields);
    if 'CASE' = any (r.fields) then
        res := res || jsonb_build_object('case_number', c.number, 'module', c.module, 'state', c.state, 'due_at', c.due_at);
    end if;
    if 'CASE_DATA' = any (r.fields) then
        res := res || jsonb_build_object('data', c.data);
    end if;
    if r.fields && array['MEMBERS', 'CONTACTS', 'SPECIFIC_NEEDS'] then
        res := res || jsonb_build_object('members', (
            select jsonb_agg(jsonb_strip_nulls(
                     case when 'MEMBERS' = any (r.fields) then
                         jsonb_build_object('given_name', i.given_name, 'family_name', i.family_name, 'sex', i.sex,
                                            'date_of_birth', i.date_of_birth, 'role', cm.role,
                                            'relationship', cm.relationship)
                     else jsonb_build_object('role', cm.role) end
                   || case when 'CONTACTS' = any (r.fields) then jsonb_build_object('contacts',
                          (select jsonb_agg(jsonb_build_object('type', k.contact_type, 'value', k.value))
                             from refuge.individual_contact k where k.individual_id = i.id and k.still_in_use))
                      else '{}' end
                   || case when 'SPECIFIC_NEEDS' = any (r.fields) then jsonb_build_object('specific_needs',
                          (select jsonb_agg(coalesce(n.code, n.category) order by n.category)
                             from refuge.specific_need n where n.individual_id = i.id and n.active))
                      else '{}' end) order by cm.role desc, i.date_of_birth)
              from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
             where cm.case_id = c.id));
    end if;
    if 'NOTES' = any (r.fields) then
        res := res || jsonb_build_object('notes', (
            select jsonb_agg(jsonb_build_object('kind', n.kind, 'at', n.created_at, 'text', n.body) order by n.created_at)
              from refuge.case_note n where n.case_id = c.id and not n.confidential));
    end if;
    if 'INCIDENT' = any (r.fields) then
        select * into g from refuge.gbv_incident x where x.case_id = c.id and x.consent_sharing;
        if found then
            res := res || jsonb_build_object('incident', jsonb_build_object('violence_type', g.violence_type,
                'incident_date', g.incident_date, 'reported_on', g.reported_on)
                || convert_from(refuge.vault_open(g.sealed, 'gbv_incident:' || c.id), 'UTF8')::jsonb);
        end if;
    end if;
    return res;
end
$$;
comment on function refuge.referred_case(uuid, text) is
    'what a partner may read of a case referred to it (the shared fields), logged with the purpose';
grant execute on function refuge.referred_case(uuid, text) to refuge_partner;

-- The module of a case whatever the caller may see (for transfer policies).
create function refuge.case_module_of(p_case uuid) returns text
    language sql stable parallel safe security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select c.module from refuge.process_case c where c.id = p_case;
end;

-- Referrals end when the survivor withdraws consent to sharing.
create function refuge.revoke_referrals_without_consent(c refuge.process_case, p_reason text) returns integer
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r refuge.case_referral;
    n integer := 0;
begin
    for r in select * from refuge.case_referral x where x.case_id = c.id and x.status = 'ACTIVE' for update loop
        update refuge.case_referral x set status = 'REVOKED', ended_by = refuge.caller(), ended_at = now(),
                                          end_reason = p_reason
         where x.id = r.id;
        perform refuge.note_case_event(c, 'REFERRAL_REVOKED', p_reason, jsonb_build_object('referral_id', r.id));
        n := n + 1;
    end loop;
    return n;
end
$$;
