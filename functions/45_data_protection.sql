-- Data protection (issue 18): purposes and consent, information notices,
-- data-sharing agreements (sql/84_data_protection.sql), and the gates the
-- processing functions call.

-- Roles that meet people and record what they were told and agreed to.
create function refuge.consent_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_registration', 'refuge_supervisor', 'refuge_protection', 'refuge_resettlement', 'refuge_rsd',
                 'refuge_child_protection', 'refuge_assistance']::name[];

-- A person the caller may act for: in their operations, or a member of a
-- case they work.  Raises "<field>: not found in your operations".
create function refuge.person_in_reach(p_individual uuid, p_field text) returns refuge.individual
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
begin
    if p_individual is null then
        perform refuge.raise_field('22004', p_field, 'is required');
    end if;
    select * into p from refuge.individual i where i.id = p_individual;
    perform refuge.require_visible(p.id is not null and (refuge.in_scope(p.operation_id, p.site_id)
        or exists (select 1 from refuge.case_member cm join refuge.process_case c on c.id = cm.case_id
                    where cm.individual_id = p.id and refuge.may_work_case(c.module, c.operation_id, c.site_id))), p_field);
    return p;
end
$$;

-- A purpose by code, or "<field>: unknown purpose" naming the known ones.
create function refuge.purpose_row(p_code text, p_field text) returns refuge.processing_purpose
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.processing_purpose;
begin
    select * into p from refuge.processing_purpose x where x.code = p_code;
    if not found then
        perform refuge.raise_field('22023', p_field, format('"%s" is not a processing purpose (%s)', refuge.excerpt(p_code),
            (select string_agg(x.code, ', ' order by x.code) from refuge.processing_purpose x)));
    end if;
    return p;
end
$$;

-- Does this person hold a valid consent to this purpose (for this
-- agreement, when the consent names one)?
create function refuge.valid_consent(p_individual uuid, p_purpose text, p_agreement uuid default null) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select exists (select 1 from refuge.consent c
                    where c.individual_id = p_individual and c.purpose = p_purpose and c.withdrawn_at is null
                      and (c.valid_until is null or c.valid_until >= current_date)
                      and (c.agreement_id is null or c.agreement_id is not distinct from p_agreement));
end;

-- The gate every processing function calls: a purpose whose legal basis
-- is consent is refused without the person's valid consent, naming the
-- purpose.  Other purposes pass (their basis is recorded with them).
create function refuge.require_consent(p_individual uuid, p_purpose text, p_field text, p_agreement uuid default null)
    returns void
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.processing_purpose;
begin
    select * into p from refuge.processing_purpose x where x.code = p_purpose;
    if not found or p.legal_basis <> 'CONSENT' or refuge.valid_consent(p_individual, p_purpose, p_agreement) then
        return;
    end if;
    perform refuge.raise_field('55000', p_field,
        format('%s has no valid consent to purpose %s (%s), whose legal basis is consent',
               coalesce((select i.number from refuge.individual i where i.id = p_individual), 'the person'), p.code, p.label),
        'record it with refuge.record_consent once the person (or their parent or guardian) agrees');
end
$$;

-- Define a purpose of the operation's own (the shipped ones change with a release).
create function refuge.define_purpose(code text, label text, legal_basis text, sharing boolean default false,
                                      description text default null)
    returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize('refuge_admin', 'define_purpose');
    if code is null or code !~ '^[A-Z][A-Z0-9_]{1,39}$' then
        perform refuge.raise_field('22023', 'code', format('"%s" is not 2 to 40 capital letters, digits or _', refuge.excerpt(code)));
    end if;
    perform refuge.require_text(label, 'label');
    if legal_basis is null or legal_basis not in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION',
                                                  'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST') then
        perform refuge.raise_field('22023', 'legal_basis', format('"%s" is not one of CONSENT, VITAL_INTEREST, MANDATE, '
            'LEGAL_OBLIGATION, PUBLIC_INTEREST, LEGITIMATE_INTEREST', refuge.excerpt(legal_basis)));
    end if;
    if exists (select 1 from refuge.processing_purpose p where p.code = define_purpose.code and p.shipped) then
        perform refuge.raise_field('55000', 'code', format('%s is shipped with Refuge: a release changes it', code));
    end if;
    insert into refuge.processing_purpose as p (code, label, legal_basis, sharing, description)
    values (code, left(label, 200), legal_basis, coalesce(sharing, false), left(description, 2000))
    on conflict on constraint processing_purpose_pkey do update
       set label = excluded.label, legal_basis = excluded.legal_basis, sharing = excluded.sharing,
           description = excluded.description;
end
$$;
comment on function refuge.define_purpose(text, text, text, boolean, text) is
    'add or change a processing purpose of the operation''s own, with its legal basis';
grant execute on function refuge.define_purpose(text, text, text, boolean, text) to refuge_admin;

-- Record that a person (or their parent or guardian) consented to a purpose.
create function refuge.record_consent(individual_id uuid, purpose text, method text default 'ORAL',
                                      given_by text default 'SELF', guardian_id uuid default null,
                                      notice_version text default null, valid_until date default null,
                                      agreement text default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    pur refuge.processing_purpose;
    a refuge.sharing_agreement;
    new_id uuid;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'record_consent');
    p := refuge.person_in_reach(record_consent.individual_id, 'individual_id');
    pur := refuge.purpose_row(record_consent.purpose, 'purpose');
    if method is null or method not in ('ORAL', 'WRITTEN', 'THUMBPRINT', 'ELECTRONIC') then
        perform refuge.raise_field('22023', 'method', format('"%s" is not ORAL, WRITTEN, THUMBPRINT or ELECTRONIC', refuge.excerpt(method)));
    end if;
    if given_by is null or given_by not in ('SELF', 'PARENT', 'GUARDIAN', 'CAREGIVER') then
        perform refuge.raise_field('22023', 'given_by', format('"%s" is not SELF, PARENT, GUARDIAN or CAREGIVER', refuge.excerpt(given_by)));
    end if;
    if given_by in ('PARENT', 'GUARDIAN') and guardian_id is null then
        perform refuge.raise_field('22004', 'guardian_id', format('is required when consent is given by a %s', lower(given_by)));
    end if;
    if given_by = 'SELF' and guardian_id is not null then
        perform refuge.raise_field('22023', 'guardian_id', 'must be empty when the person consents themselves');
    end if;
    if guardian_id is not null then
        perform refuge.person_in_reach(guardian_id, 'guardian_id');
        if guardian_id = p.id then
            perform refuge.raise_field('22023', 'guardian_id', 'is the person themselves');
        end if;
    end if;
    if valid_until is not null and valid_until < current_date then
        perform refuge.raise_field('22008', 'valid_until', format('%s is in the past', refuge.iso(valid_until)));
    end if;
    if notice_version is not null and (btrim(notice_version) = '' or length(notice_version) > 100) then
        perform refuge.raise_field('22023', 'notice_version', 'must be 1 to 100 characters');
    end if;
    if agreement is not null then
        select * into a from refuge.sharing_agreement x where x.code = agreement;
        if not found then
            perform refuge.raise_field('23503', 'agreement', format('unknown agreement "%s"', refuge.excerpt(agreement)));
        end if;
        if not pur.code = any (a.purposes) then
            perform refuge.raise_field('22023', 'agreement', format('%s does not cover purpose %s', a.code, pur.code));
        end if;
    end if;
    insert into refuge.consent (individual_id, purpose, agreement_id, given_by, guardian_id, method, notice_version,
                                valid_until, recorded_by)
    values (p.id, pur.code, a.id, given_by, guardian_id, method, btrim(notice_version), valid_until, refuge.caller())
    returning id into new_id;
    if notice_version is not null then
        insert into refuge.information_notice (individual_id, purpose, notice_version, given_by)
        values (p.id, pur.code, btrim(notice_version), refuge.caller());
    end if;
    return new_id;
end
$$;
comment on function refuge.record_consent(uuid, text, text, text, uuid, text, date, text) is
    'record a person''s consent to a purpose (given by them or a parent or guardian, how, after which notice, until when, for one agreement or any)';
grant execute on function refuge.record_consent(uuid, text, text, text, uuid, text, date, text) to refuge_registration,
    refuge_supervisor, refuge_protection, refuge_resettlement, refuge_rsd, refuge_child_protection, refuge_assistance;

-- Withdraw every valid consent of a person to a purpose.  Takes effect at
-- once: the referrals of the person's cases made for that purpose are
-- revoked; exports and openings check consent at every call.
create function refuge.withdraw_consent(individual_id uuid, purpose text, reason text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    pur refuge.processing_purpose;
    n integer;
    revoked integer := 0;
    c refuge.process_case;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'withdraw_consent');
    p := refuge.person_in_reach(withdraw_consent.individual_id, 'individual_id');
    pur := refuge.purpose_row(withdraw_consent.purpose, 'purpose');
    perform refuge.require_text(reason, 'reason');
    update refuge.consent x set withdrawn_at = now(), withdrawn_by = refuge.caller(), withdrawal_reason = left(reason, 2000)
     where x.individual_id = p.id and x.purpose = pur.code and x.withdrawn_at is null;
    get diagnostics n = row_count;
    if n = 0 then
        perform refuge.raise_field('55000', 'purpose', format('%s holds no consent to %s to withdraw', p.number, pur.code));
    end if;
    -- referrals rest on the principal's consent: those left without one end now
    if pur.code = 'REFERRAL' then
        for c in select pc.* from refuge.process_case pc
                  where pc.principal_id = p.id
                    and exists (select 1 from refuge.case_referral r where r.case_id = pc.id and r.status = 'ACTIVE')
                    for update loop
            revoked := revoked + refuge.revoke_referrals_without_consent(c, 'consent to referral withdrawn: ' || left(reason, 1900));
        end loop;
    end if;
    return jsonb_build_object('individual_id', p.id, 'purpose', pur.code, 'consents_withdrawn', n,
                              'referrals_revoked', revoked);
end
$$;
comment on function refuge.withdraw_consent(uuid, text, text) is
    'withdraw a person''s consent to a purpose, at once: referrals resting on it are revoked, exports and case openings refused';
grant execute on function refuge.withdraw_consent(uuid, text, text) to refuge_registration, refuge_supervisor,
    refuge_protection, refuge_resettlement, refuge_rsd, refuge_child_protection, refuge_assistance;

-- Record that a person was given an information notice for a purpose.
create function refuge.record_notice(individual_id uuid, purpose text, notice_version text, language text default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    pur refuge.processing_purpose;
    new_id uuid;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'record_notice');
    p := refuge.person_in_reach(record_notice.individual_id, 'individual_id');
    pur := refuge.purpose_row(record_notice.purpose, 'purpose');
    if notice_version is null or btrim(notice_version) = '' or length(notice_version) > 100 then
        perform refuge.raise_field('22023', 'notice_version', 'must be 1 to 100 characters');
    end if;
    if language is not null and language !~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$' then
        perform refuge.raise_field('22023', 'language', format('"%s" is not a language tag (ar, so, fr-CD)', refuge.excerpt(language)));
    end if;
    insert into refuge.information_notice (individual_id, purpose, notice_version, language, given_by)
    values (p.id, pur.code, btrim(notice_version), language, refuge.caller())
    returning id into new_id;
    return new_id;
end
$$;
comment on function refuge.record_notice(uuid, text, text, text) is
    'record that a person was informed (notice version, language) about a processing purpose';
grant execute on function refuge.record_notice(uuid, text, text, text) to refuge_registration, refuge_supervisor,
    refuge_protection, refuge_resettlement, refuge_rsd, refuge_child_protection, refuge_assistance;

-- A person's consents and notices, for anyone who may act for them.
create function refuge.consents(individual_id uuid)
    returns table (purpose text, label text, legal_basis text, status text, given_at timestamptz, given_by text,
                   method text, notice_version text, valid_until date, agreement text, withdrawn_at timestamptz,
                   withdrawal_reason text)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'consents');
    p := refuge.person_in_reach(consents.individual_id, 'individual_id');
    return query
    select c.purpose, pp.label, pp.legal_basis,
           case when c.withdrawn_at is not null then 'WITHDRAWN'
                when c.valid_until < current_date then 'EXPIRED' else 'VALID' end,
           c.given_at, c.given_by, c.method, c.notice_version, c.valid_until, a.code, c.withdrawn_at, c.withdrawal_reason
      from refuge.consent c
      join refuge.processing_purpose pp on pp.code = c.purpose
      left join refuge.sharing_agreement a on a.id = c.agreement_id
     where c.individual_id = p.id
     order by c.purpose, c.given_at;
end
$$;
comment on function refuge.consents(uuid) is
    'a person''s consents per purpose: VALID, EXPIRED or WITHDRAWN, who gave them, how, until when';
grant execute on function refuge.consents(uuid) to refuge_registration, refuge_supervisor, refuge_protection,
    refuge_resettlement, refuge_rsd, refuge_child_protection, refuge_assistance;

-- The fields an agreement can cover: the parts of a referral, and RRF (the
-- whole Resettlement Registration Form, photos included).
create function refuge.shareable_fields() returns text[]
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select array_agg(x.code order by x.code)
      from (select f.code from refuge.referral_field f union select 'RRF') x;
end;

-- Define a data-sharing agreement (refuge_admin): the JSON object's
-- fields are the table's (partner by code).
create function refuge.define_agreement(agreement jsonb) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
    k text;
    x text;
    new_id uuid;
begin
    perform refuge.authorize('refuge_admin', 'define_agreement');
    if agreement is null or jsonb_typeof(agreement) <> 'object' then
        perform refuge.raise_field('22023', 'agreement', 'must be a JSON object');
    end if;
    for k in select jsonb_object_keys(agreement) loop
        if k not in ('code', 'title', 'party_kind', 'partner', 'country', 'party_name', 'purposes', 'fields', 'legal_basis',
                     'valid_from', 'valid_until', 'security_terms', 'signed_by', 'signed_on') then
            perform refuge.raise_field('22023', 'agreement.' || refuge.excerpt(k), 'is not a field of an agreement');
        end if;
    end loop;
    foreach k in array array['code', 'title', 'party_kind', 'party_name', 'legal_basis', 'valid_from', 'valid_until',
                             'security_terms', 'signed_by', 'signed_on'] loop
        if jsonb_typeof(agreement -> k) is distinct from 'string' or btrim(agreement ->> k) = '' then
            perform refuge.raise_field('22004', 'agreement.' || k, 'is required (a string)');
        end if;
    end loop;
    a.code := agreement ->> 'code';
    if a.code !~ '^[A-Z0-9][A-Z0-9_-]{1,39}$' then
        perform refuge.raise_field('22023', 'agreement.code', format('"%s" is not 2 to 40 capital letters, digits, - or _', refuge.excerpt(a.code)));
    end if;
    if exists (select 1 from refuge.sharing_agreement s where s.code = a.code) then
        perform refuge.raise_field('23505', 'agreement.code', format('%s exists already', a.code));
    end if;
    a.title := left(agreement ->> 'title', 200);
    a.party_kind := agreement ->> 'party_kind';
    if a.party_kind not in ('PARTNER', 'GOVERNMENT', 'RESETTLEMENT_STATE', 'RESEARCHER') then
        perform refuge.raise_field('22023', 'agreement.party_kind', format('"%s" is not PARTNER, GOVERNMENT, RESETTLEMENT_STATE or RESEARCHER',
                                                                        refuge.excerpt(a.party_kind)));
    end if;
    if a.party_kind = 'PARTNER' then
        select p.id into a.partner_id from refuge.partner_organisation p where p.code = agreement ->> 'partner';
        if a.partner_id is null then
            perform refuge.raise_field('23503', 'agreement.partner', format('unknown partner "%s"', refuge.excerpt(agreement ->> 'partner')));
        end if;
    elsif agreement ? 'partner' then
        perform refuge.raise_field('22023', 'agreement.partner', format('is for a PARTNER agreement, not %s', a.party_kind));
    end if;
    a.country := agreement ->> 'country';
    if a.party_kind in ('GOVERNMENT', 'RESETTLEMENT_STATE') and a.country is null then
        perform refuge.raise_field('22004', 'agreement.country', format('is required for a %s agreement (ISO 3166 alpha-3)', a.party_kind));
    end if;
    if a.party_kind in ('GOVERNMENT', 'RESETTLEMENT_STATE') and not refuge.code_exists('country', a.country) then
        perform refuge.raise_field('22023', 'agreement.country', format('"%s" is not a country code (ISO 3166 alpha-3)', refuge.excerpt(a.country)));
    end if;
    a.party_name := left(agreement ->> 'party_name', 200);
    if jsonb_typeof(agreement -> 'purposes') is distinct from 'array' or jsonb_array_length(agreement -> 'purposes') = 0 then
        perform refuge.raise_field('22004', 'agreement.purposes', 'is required (a non-empty list of purposes)');
    end if;
    for x in select jsonb_array_elements_text(agreement -> 'purposes') loop
        if not exists (select 1 from refuge.processing_purpose p where p.code = x and p.sharing) then
            perform refuge.raise_field('22023', 'agreement.purposes', format('"%s" is not a sharing purpose (%s)', refuge.excerpt(x),
                (select string_agg(p.code, ', ' order by p.code) from refuge.processing_purpose p where p.sharing)));
        end if;
    end loop;
    a.purposes := array(select distinct jsonb_array_elements_text(agreement -> 'purposes') order by 1);
    if jsonb_typeof(agreement -> 'fields') is distinct from 'array' or jsonb_array_length(agreement -> 'fields') = 0 then
        perform refuge.raise_field('22004', 'agreement.fields', 'is required (a non-empty list of fields)');
    end if;
    for x in select jsonb_array_elements_text(agreement -> 'fields') loop
        if not x = any (refuge.shareable_fields()) then
            perform refuge.raise_field('22023', 'agreement.fields', format('"%s" is not one of %s', refuge.excerpt(x),
                                                                         array_to_string(refuge.shareable_fields(), ', ')));
        end if;
    end loop;
    a.fields := array(select distinct jsonb_array_elements_text(agreement -> 'fields') order by 1);
    a.legal_basis := agreement ->> 'legal_basis';
    if a.legal_basis not in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION', 'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST') then
        perform refuge.raise_field('22023', 'agreement.legal_basis', format('"%s" is not one of CONSENT, VITAL_INTEREST, MANDATE, '
            'LEGAL_OBLIGATION, PUBLIC_INTEREST, LEGITIMATE_INTEREST', refuge.excerpt(a.legal_basis)));
    end if;
    a.valid_from := refuge.arg_date(agreement, 'valid_from', 'agreement', true, false);
    a.valid_until := refuge.arg_date(agreement, 'valid_until', 'agreement', true, false);
    a.signed_on := refuge.arg_date(agreement, 'signed_on', 'agreement', true, true);
    if a.valid_until < a.valid_from then
        perform refuge.raise_field('22008', 'agreement.valid_until', format('%s is before valid_from', refuge.iso(a.valid_until)));
    end if;
    if a.valid_until < current_date then
        perform refuge.raise_field('22008', 'agreement.valid_until', format('%s is in the past', refuge.iso(a.valid_until)));
    end if;
    a.security_terms := left(agreement ->> 'security_terms', 4000);
    a.signed_by := left(agreement ->> 'signed_by', 200);
    insert into refuge.sharing_agreement (code, title, party_kind, partner_id, country, party_name, purposes, fields,
                                          legal_basis, valid_from, valid_until, security_terms, signed_by, signed_on)
    values (a.code, a.title, a.party_kind, a.partner_id, case when a.party_kind in ('GOVERNMENT', 'RESETTLEMENT_STATE') then a.country end,
            a.party_name, a.purposes, a.fields, a.legal_basis, a.valid_from, a.valid_until, a.security_terms, a.signed_by,
            a.signed_on)
    returning id into new_id;
    return new_id;
end
$$;
comment on function refuge.define_agreement(jsonb) is
    'define a data-sharing agreement: code, title, party_kind, partner or country, party_name, purposes, fields, legal_basis, valid_from, valid_until, security_terms, signed_by, signed_on';
grant execute on function refuge.define_agreement(jsonb) to refuge_admin;

-- Suspend, resume or terminate an agreement.  Termination revokes the
-- referrals made under it; a suspended agreement's referrals cannot be read.
create function refuge.set_agreement_status(agreement text, status text, reason text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
    c refuge.process_case;
    r refuge.case_referral;
    revoked integer := 0;
begin
    perform refuge.authorize('refuge_admin', 'set_agreement_status');
    if status is null or status not in ('ACTIVE', 'SUSPENDED', 'TERMINATED') then
        perform refuge.raise_field('22023', 'status', format('"%s" is not ACTIVE, SUSPENDED or TERMINATED', refuge.excerpt(status)));
    end if;
    perform refuge.require_text(reason, 'reason');
    select * into a from refuge.sharing_agreement x where x.code = agreement for update;
    if not found then
        perform refuge.raise_field('23503', 'agreement', format('unknown agreement "%s"', refuge.excerpt(agreement)));
    end if;
    if a.status = 'TERMINATED' then
        perform refuge.raise_field('55000', 'agreement', format('%s is terminated', a.code));
    end if;
    update refuge.sharing_agreement x
       set status = set_agreement_status.status,
           ended_at = case when set_agreement_status.status = 'ACTIVE' then null else now() end,
           ended_by = case when set_agreement_status.status = 'ACTIVE' then null else refuge.caller() end,
           end_reason = left(reason, 2000)
     where x.id = a.id;
    if status = 'TERMINATED' then
        for r in select * from refuge.case_referral x where x.agreement_id = a.id and x.status = 'ACTIVE' for update loop
            select * into c from refuge.process_case p where p.id = r.case_id;
            update refuge.case_referral x set status = 'REVOKED', ended_by = refuge.caller(), ended_at = now(),
                                              end_reason = left('agreement ' || a.code || ' terminated: ' || reason, 2000)
             where x.id = r.id;
            perform refuge.note_case_event(c, 'REFERRAL_REVOKED', 'agreement ' || a.code || ' terminated',
                                           jsonb_build_object('referral_id', r.id));
            revoked := revoked + 1;
        end loop;
    end if;
    return jsonb_build_object('agreement', a.code, 'status', status, 'referrals_revoked', revoked);
end
$$;
comment on function refuge.set_agreement_status(text, text, text) is
    'suspend, resume or terminate a sharing agreement (termination revokes its referrals), with the reason';
grant execute on function refuge.set_agreement_status(text, text, text) to refuge_admin;

-- Is an agreement in force today?
create function refuge.agreement_in_force(a refuge.sharing_agreement) returns boolean
    language sql stable
    return a.id is not null and a.status = 'ACTIVE' and current_date between a.valid_from and a.valid_until;
comment on function refuge.agreement_in_force(refuge.sharing_agreement) is
    'is this sharing agreement active and within its validity today?';
grant execute on function refuge.agreement_in_force(refuge.sharing_agreement) to refuge_registration, refuge_supervisor,
    refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;

-- The agreement a transfer names, or an error saying why it does not cover
-- it: unknown, not in force, with another party, for other purposes, not
-- these fields.
create function refuge.agreement_for(p_code text, p_party_kind text, p_partner uuid, p_purpose text, p_fields text[],
                                     p_field text)
    returns refuge.sharing_agreement
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
    missing text;
begin
    if p_code is null then
        perform refuge.raise_field('22004', p_field, format('is required: name the sharing agreement that covers purpose %s', p_purpose),
                                   'refuge_admin defines agreements with refuge.define_agreement');
    end if;
    select * into a from refuge.sharing_agreement x where x.code = p_code;
    if not found then
        perform refuge.raise_field('23503', p_field, format('unknown agreement "%s"', refuge.excerpt(p_code)));
    end if;
    if a.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', p_field, format('%s is %s', a.code, lower(a.status)));
    end if;
    if current_date < a.valid_from then
        perform refuge.raise_field('55000', p_field, format('%s is in force from %s', a.code, refuge.iso(a.valid_from)));
    end if;
    if current_date > a.valid_until then
        perform refuge.raise_field('55000', p_field, format('%s expired on %s', a.code, refuge.iso(a.valid_until)));
    end if;
    if a.party_kind <> p_party_kind or (p_partner is not null and a.partner_id is distinct from p_partner) then
        perform refuge.raise_field('22023', p_field, format('%s is an agreement with %s (%s), not with this %s', a.code,
                                                          a.party_name, lower(a.party_kind), lower(replace(p_party_kind, '_', ' '))));
    end if;
    if not p_purpose = any (a.purposes) then
        perform refuge.raise_field('22023', p_field, format('%s does not cover purpose %s (only %s)', a.code, p_purpose,
                                                          array_to_string(a.purposes, ', ')));
    end if;
    select string_agg(f, ', ' order by f) into missing from unnest(p_fields) f where not f = any (a.fields);
    if missing is not null then
        perform refuge.raise_field('22023', p_field, format('%s does not cover %s (only %s)', a.code, missing,
                                                          array_to_string(a.fields, ', ')));
    end if;
    return a;
end
$$;

-- The sharing agreements in force a caller may name, with their terms.
create function refuge.agreements(include_ended boolean default false)
    returns table (code text, title text, party_kind text, party_name text, partner text, country text, purposes text[],
                   fields text[], legal_basis text, valid_from date, valid_until date, status text, in_force boolean)
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select a.code, a.title, a.party_kind, a.party_name, p.code, a.country, a.purposes, a.fields, a.legal_basis,
           a.valid_from, a.valid_until, a.status, refuge.agreement_in_force(a)
      from refuge.sharing_agreement a left join refuge.partner_organisation p on p.id = a.partner_id
     where include_ended or refuge.agreement_in_force(a)
     order by a.code;
end;
comment on function refuge.agreements(boolean) is
    'sharing agreements (those in force, or all) with parties, purposes, fields and validity, as far as the caller may read them';
grant execute on function refuge.agreements(boolean) to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
