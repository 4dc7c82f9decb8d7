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
    if p.status = 'ERASED' then
        perform refuge.raise_field('55000', p_field, format('the record %s was erased at the person''s request', p.number));
    end if;
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

-- The legal basis in force for a purpose: the operation's choice for a
-- shipped purpose, else the purpose's own (null: no such purpose).
create function refuge.legal_basis_of(p_purpose text) returns text
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select coalesce((select b.legal_basis from refuge.purpose_legal_basis b where b.purpose = p_purpose),
                    (select p.legal_basis from refuge.processing_purpose p where p.code = p_purpose));
end;
comment on function refuge.legal_basis_of(text) is 'the legal basis in force for a processing purpose';
grant execute on function refuge.legal_basis_of(text) to refuge_registration, refuge_supervisor,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;

-- Change the legal basis of a shipped purpose (refuge_admin), with the
-- reason; null restores the shipped one.
create function refuge.set_legal_basis(purpose text, legal_basis text, reason text) returns text
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    pur refuge.processing_purpose;
begin
    perform refuge.authorize('refuge_admin', 'set_legal_basis');
    pur := refuge.purpose_row(set_legal_basis.purpose, 'purpose');
    perform refuge.require_text(reason, 'reason');
    if length(reason) > 2000 then
        perform refuge.raise_field('22001', 'reason', 'is longer than 2000 characters');
    end if;
    -- what rests on consent as shipped (SGBV case work, referrals, resettlement
    -- submissions) stays so: leaving it would make withdrawn or missing
    -- consents count again
    if pur.shipped and pur.legal_basis = 'CONSENT' and legal_basis is distinct from 'CONSENT' then
        perform refuge.raise_field('55000', 'purpose', format('%s rests on consent: its legal basis does not change', pur.code));
    end if;
    if legal_basis is null then
        delete from refuge.purpose_legal_basis b where b.purpose = pur.code;
        return pur.legal_basis;
    end if;
    if legal_basis not in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION', 'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST') then
        perform refuge.raise_field('22023', 'legal_basis', format('"%s" is not one of CONSENT, VITAL_INTEREST, MANDATE, '
            'LEGAL_OBLIGATION, PUBLIC_INTEREST, LEGITIMATE_INTEREST', refuge.excerpt(legal_basis)));
    end if;
    insert into refuge.purpose_legal_basis as b (purpose, legal_basis, reason)
    values (pur.code, legal_basis, reason)
    on conflict on constraint purpose_legal_basis_pkey do update set legal_basis = excluded.legal_basis, reason = excluded.reason;
    return legal_basis;
end
$$;
comment on function refuge.set_legal_basis(text, text, text) is
    'change the legal basis of a processing purpose (e.g. ASSISTANCE on CONSENT for a pilot), with the reason; null restores the shipped one';
grant execute on function refuge.set_legal_basis(text, text, text) to refuge_admin;

-- May the caller handle consents to this purpose for this person?  A
-- purpose that is a sensitive module (SGBV) is that module's staff's only:
-- a consent to it would tell who is a survivor.
create function refuge.purpose_in_reach(p_purpose text, p refuge.individual) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select not exists (select 1 from refuge.case_module m where m.code = p_purpose and m.sensitive)
        or refuge.may_work_case(p_purpose, p.operation_id, p.site_id);
end;

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
    if not found or refuge.legal_basis_of(p_purpose) <> 'CONSENT'
       or refuge.valid_consent(p_individual, p_purpose, p_agreement) then
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
    if length(label) > 200 or length(description) > 2000 then
        perform refuge.raise_field('22001', case when length(label) > 200 then 'label' else 'description' end,
                                   'is too long (label 200, description 2000 characters)');
    end if;
    if legal_basis is null or legal_basis not in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION',
                                                  'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST') then
        perform refuge.raise_field('22023', 'legal_basis', format('"%s" is not one of CONSENT, VITAL_INTEREST, MANDATE, '
            'LEGAL_OBLIGATION, PUBLIC_INTEREST, LEGITIMATE_INTEREST', refuge.excerpt(legal_basis)));
    end if;
    if exists (select 1 from refuge.processing_purpose p where p.code = define_purpose.code and p.shipped) then
        perform refuge.raise_field('55000', 'code', format('%s is shipped with Refuge: change its legal basis with refuge.set_legal_basis', code));
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
    g refuge.individual;
    pur refuge.processing_purpose;
    a refuge.sharing_agreement;
    new_id uuid;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'record_consent');
    p := refuge.person_in_reach(record_consent.individual_id, 'individual_id');
    pur := refuge.purpose_row(record_consent.purpose, 'purpose');
    if not refuge.purpose_in_reach(pur.code, p) then
        raise exception using errcode = '42501',
            message = format('record_consent: consents to %s are recorded by the staff of that module', pur.code);
    end if;
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
        g := refuge.person_in_reach(guardian_id, 'guardian_id');
        if g.id = p.id then
            perform refuge.raise_field('22023', 'guardian_id', 'is the person themselves');
        end if;
        -- plausible: a current record, older than the person (a parent by
        -- 12 years at least), 15 or older (the head of a child-headed
        -- household consents for younger siblings)
        if g.status in ('CLOSED', 'DECEASED', 'DUPLICATE', 'ERASED') then
            perform refuge.raise_field('55000', 'guardian_id',
                format('%s is %s: they cannot consent for another person', g.number, lower(g.status)));
        end if;
        if g.date_of_birth is not null and g.date_of_birth > current_date - interval '15 years' then
            perform refuge.raise_field('22023', 'guardian_id',
                format('%s is under 15: too young to consent for another person', g.number));
        end if;
        if g.date_of_birth is not null and p.date_of_birth is not null then
            if g.date_of_birth >= p.date_of_birth then
                perform refuge.raise_field('22023', 'guardian_id', format('%s is not older than %s', g.number, p.number));
            end if;
            if given_by = 'PARENT' and g.date_of_birth > p.date_of_birth - interval '12 years' then
                perform refuge.raise_field('22023', 'guardian_id',
                    format('%s is less than 12 years older than %s: not plausibly a parent', g.number, p.number));
            end if;
        end if;
    end if;
    -- an adult consents themselves (or a guardian appointed for them, or a
    -- caregiver for one who cannot): not their parent
    if given_by = 'PARENT' and p.date_of_birth is not null and p.date_of_birth <= current_date - interval '18 years' then
        perform refuge.raise_field('22023', 'given_by',
            format('%s is an adult: a parent does not consent for them (GUARDIAN for an adult under guardianship, CAREGIVER for one who cannot consent)', p.number));
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
    seen integer := 0;
    r record;
    c refuge.process_case;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'withdraw_consent');
    p := refuge.person_in_reach(withdraw_consent.individual_id, 'individual_id');
    pur := refuge.purpose_row(withdraw_consent.purpose, 'purpose');
    if not refuge.purpose_in_reach(pur.code, p) then
        raise exception using errcode = '42501',
            message = format('withdraw_consent: consents to %s are withdrawn through the staff of that module', pur.code);
    end if;
    perform refuge.require_text(reason, 'reason');
    if length(reason) > 2000 then
        perform refuge.raise_field('22001', 'reason', 'is longer than 2000 characters');
    end if;
    update refuge.consent x set withdrawn_at = now(), withdrawn_by = refuge.caller(), withdrawal_reason = reason
     where x.individual_id = p.id and x.purpose = pur.code and x.withdrawn_at is null;
    get diagnostics n = row_count;
    if n = 0 then
        perform refuge.raise_field('55000', 'purpose', format('%s holds no consent to %s to withdraw', p.number, pur.code));
    end if;
    -- the referrals of the person's cases that no longer rest on a consent
    -- of everyone whose data they share end now (the reason stays here:
    -- the partner reads only that consent was withdrawn)
    if pur.code = 'REFERRAL' then
        for r in select x.*, pc.module, pc.operation_id as op, pc.site_id as site
                   from refuge.case_referral x join refuge.process_case pc on pc.id = x.case_id
                  where x.status = 'ACTIVE'
                    and exists (select 1 from refuge.case_member cm where cm.case_id = x.case_id and cm.individual_id = p.id)
                  order by x.referred_at
                    for update of x loop
            continue when refuge.referral_consented(r.case_id, r.fields, r.agreement_id);
            select * into c from refuge.process_case pc where pc.id = r.case_id;
            update refuge.case_referral x set status = 'REVOKED', ended_by = refuge.caller(), ended_at = now(),
                                              end_reason = 'consent to referral withdrawn'
             where x.id = r.id;
            perform refuge.note_case_event(c, 'REFERRAL_REVOKED', 'consent to referral withdrawn',
                                           jsonb_build_object('referral_id', r.id));
            revoked := revoked + 1;
            -- (counted for the caller only where they work the case: a
            -- count would otherwise tell of an SGBV referral)
            if refuge.may_work_case(r.module, r.op, r.site) then
                seen := seen + 1;
            end if;
        end loop;
    -- consent to a module's case work withdrawn: nothing of those cases is
    -- shared any more (the case itself stays, for its staff to close)
    elsif exists (select 1 from refuge.case_module m where m.code = pur.code) then
        for c in select pc.* from refuge.process_case pc
                  where pc.principal_id = p.id and pc.module = pur.code
                    and exists (select 1 from refuge.case_referral x where x.case_id = pc.id and x.status = 'ACTIVE')
                    for update loop
            seen := seen + refuge.revoke_referrals_without_consent(c, 'consent to ' || lower(pur.code) || ' case work withdrawn');
        end loop;
    end if;
    return jsonb_build_object('individual_id', p.id, 'purpose', pur.code, 'consents_withdrawn', n,
                              'referrals_revoked', seen);
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
    if not refuge.purpose_in_reach(pur.code, p) then
        raise exception using errcode = '42501',
            message = format('record_notice: notices of %s are recorded by the staff of that module', pur.code);
    end if;
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
    select c.purpose, pp.label, refuge.legal_basis_of(pp.code),
           case when c.withdrawn_at is not null then 'WITHDRAWN'
                when c.valid_until < current_date then 'EXPIRED' else 'VALID' end,
           c.given_at, c.given_by, c.method, c.notice_version, c.valid_until, a.code, c.withdrawn_at, c.withdrawal_reason
      from refuge.consent c
      join refuge.processing_purpose pp on pp.code = c.purpose
      left join refuge.sharing_agreement a on a.id = c.agreement_id
     where c.individual_id = p.id and refuge.purpose_in_reach(c.purpose, p)
     order by c.purpose, c.given_at;
end
$$;
comment on function refuge.consents(uuid) is
    'a person''s consents per purpose: VALID, EXPIRED or WITHDRAWN, who gave them, how, until when';
grant execute on function refuge.consents(uuid) to refuge_registration, refuge_supervisor, refuge_protection,
    refuge_resettlement, refuge_rsd, refuge_child_protection, refuge_assistance;

-- The fields an agreement can cover: the parts of a referral, RRF (the
-- whole Resettlement Registration Form, photos included) and MICRODATA (an
-- anonymised extract, refuge.microdata_extract).
create function refuge.shareable_fields() returns text[]
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select array_agg(x.code order by x.code)
      from (select f.code from refuge.referral_field f union select 'RRF' union select 'MICRODATA'
            union select 'AGGREGATE_STATISTICS') x;
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
    foreach k in array array['title', 'party_name', 'signed_by', 'security_terms'] loop
        if length(agreement ->> k) > (case when k = 'security_terms' then 4000 else 200 end) then
            perform refuge.raise_field('22001', 'agreement.' || k, format('is longer than %s characters',
                                       (case when k = 'security_terms' then 4000 else 200 end)));
        end if;
    end loop;
    a.title := agreement ->> 'title';
    a.party_kind := agreement ->> 'party_kind';
    if a.party_kind not in ('PARTNER', 'GOVERNMENT', 'RESETTLEMENT_STATE', 'RESEARCHER', 'PUBLIC') then
        perform refuge.raise_field('22023', 'agreement.party_kind', format('"%s" is not PARTNER, GOVERNMENT, RESETTLEMENT_STATE, RESEARCHER or PUBLIC',
                                                                        refuge.excerpt(a.party_kind)));
    end if;
    if a.party_kind = 'PUBLIC' and (agreement -> 'purposes' <> '["STATISTICS"]'::jsonb
                                    or agreement -> 'fields' <> '["AGGREGATE_STATISTICS"]'::jsonb) then
        perform refuge.raise_field('22023', 'agreement.party_kind',
            'an agreement with the public covers purpose STATISTICS and field AGGREGATE_STATISTICS only (published aggregates)');
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
    a.party_name := agreement ->> 'party_name';
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
    a.security_terms := agreement ->> 'security_terms';
    a.signed_by := agreement ->> 'signed_by';
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
                                              end_reason = 'agreement ' || a.code || ' terminated'
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
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;

-- The agreement a transfer names, or an error saying why it does not cover
-- it: unknown, not in force, with another party, for other purposes, not
-- these fields.
create function refuge.agreement_for(p_code text, p_party_kind text, p_partner uuid, p_purpose text, p_fields text[],
                                     p_field text)
    returns refuge.sharing_agreement
    language plpgsql volatile
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
    -- (locked until the transfer commits: a termination waits for it, then revokes it)
    select * into a from refuge.sharing_agreement x where x.code = p_code for share;
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

-- The agreement an aggregate-statistics export names (the HXL table): with
-- the public (an open data platform such as HDX) for STATISTICS, covering
-- AGGREGATE_STATISTICS, in force.  Returns its code.
-- (Analysts do not read agreements: any code that is not such an agreement
-- in force gets the same answer, naming no other party.)
create function refuge.statistics_agreement(agreement text) returns refuge.sharing_agreement
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
begin
    if agreement is null then
        perform refuge.raise_field('22004', 'agreement', 'is required: name the agreement with the public that covers STATISTICS',
                                   'refuge_admin defines agreements with refuge.define_agreement');
    end if;
    -- the checks every transfer makes (refuge.agreement_for), with one answer
    begin
        a := refuge.agreement_for(agreement, 'PUBLIC', null, 'STATISTICS', array['AGGREGATE_STATISTICS'], 'agreement');
    exception when others then
        perform refuge.raise_field('55000', 'agreement',
            format('"%s" is not an agreement with the public in force for STATISTICS (AGGREGATE_STATISTICS)', refuge.excerpt(agreement)));
    end;
    return a;
end
$$;
comment on function refuge.statistics_agreement(text) is
    'internal: the agreement an aggregate-statistics export names (with the public, for STATISTICS, covering AGGREGATE_STATISTICS, in force)';

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
grant execute on function refuge.agreements(boolean) to refuge_registration, refuge_supervisor,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;

-- A row as the subject sees it: without internal keys and bookkeeping.
create function refuge.subject_row(j jsonb) returns jsonb
    language sql immutable parallel safe
    return jsonb_strip_nulls(j - array['id', 'individual_id', 'operation_id', 'site_id', 'group_id', 'case_id', 'created_by',
                                       'updated_at', 'updated_by', 'sync_operation', 'sync_shared', 'sync_owner', 'sealed',
                                       'template', 'content', 'capture_id', 'identity_id', 'seq', 'agreement_id',
                                       'guardian_id', 'partner_id', 'entitlement_id', 'event_id', 'verification_id', 'alert_id']);

-- Everything Refuge holds on a person, for their request of access (Policy
-- 2015, 3.3), in the structure the README documents: biodata, names,
-- family, needs, documents, legal status, cases (those they are the
-- principal of; of others, only non-sensitive modules; never notes, files
-- or assessments; a sensitive module's only when the caller works it),
-- assistance, biometric enrolment facts (never templates or images),
-- documents issued, consents and notices, referrals, and who read their
-- sensitive records.  The request is logged durably.
create function refuge.subject_access(individual_id uuid) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    res jsonb;
begin
    perform refuge.authorize_any(array['refuge_supervisor', 'refuge_protection']::name[], 'subject_access');
    if subject_access.individual_id is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    select * into p from refuge.individual i where i.id = subject_access.individual_id;
    perform refuge.require_visible(p.id is not null and refuge.in_scope(p.operation_id, p.site_id), 'individual_id');
    res := jsonb_build_object(
        'request', jsonb_build_object('number', p.number, 'requested_by', refuge.caller(), 'requested_at', now(),
                                      'note', 'records of protection modules (SGBV, best interests) are disclosed by their own case workers; fraud investigations are not disclosed while open (Policy 3.3)',
                                      'operation', (select o.code from refuge.operation o where o.id = p.operation_id),
                                      'site', (select s.code from refuge.site s where s.id = p.site_id)),
        'person', refuge.subject_row(to_jsonb(p) - 'number'),
        'names', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                    from refuge.individual_name n where n.individual_id = p.id),
        'nationalities', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                            from refuge.individual_nationality n where n.individual_id = p.id),
        'languages', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                        from refuge.individual_language n where n.individual_id = p.id),
        'education', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                        from refuge.individual_education n where n.individual_id = p.id),
        'occupations', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                          from refuge.individual_occupation n where n.individual_id = p.id),
        'contacts', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                       from refuge.individual_contact n where n.individual_id = p.id),
        'addresses', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                        from refuge.individual_address n where n.individual_id = p.id),
        'flight_history', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                             from refuge.flight_leg n where n.individual_id = p.id),
        'identity_documents', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                                 from refuge.document n where n.individual_id = p.id),
        'specific_needs', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                             from refuge.specific_need n where n.individual_id = p.id),
        'relatives', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                        from refuge.individual_relative n where n.individual_id = p.id),
        'legal_status_history', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.valid_from, n.id), '[]')
                                   from refuge.status_history n where n.individual_id = p.id),
        'household', (select jsonb_build_object('number', g.number, 'relationship', gm.relationship, 'since', gm.valid_from,
                          'members', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object('number', i.number,
                                              'given_name', i.given_name, 'family_name', i.family_name, 'sex', i.sex,
                                              'date_of_birth', i.date_of_birth, 'relationship', o.relationship))
                                              order by o.relationship <> 'PA', i.date_of_birth)
                                        from refuge.group_membership o join refuge.individual i on i.id = o.individual_id
                                       where o.group_id = g.id and o.valid_to is null and o.individual_id <> p.id))
                        from refuge.group_membership gm join refuge.registration_group g on g.id = gm.group_id
                       where gm.individual_id = p.id and gm.valid_to is null),
        'cases', (select coalesce(jsonb_agg(jsonb_build_object('number', c.number, 'module', c.module, 'state', c.state,
                                                            'role', cm.role, 'opened_at', c.opened_at, 'closed', c.closed)
                                          order by c.opened_at), '[]')
                    from refuge.case_member cm join refuge.process_case c on c.id = cm.case_id
                    join refuge.case_module m on m.code = c.module
                   where cm.individual_id = p.id and (c.principal_id = p.id or not m.sensitive) and c.module <> 'FRAUD'
                     and (not m.sensitive or refuge.may_work_case(c.module, c.operation_id, c.site_id))),
        'referrals', (select coalesce(jsonb_agg(jsonb_build_object('case', c.number, 'partner', po.name, 'fields', r.fields,
                                                                'purpose', r.purpose, 'referred_at', r.referred_at,
                                                                'status', r.status, 'valid_until', r.valid_until,
                                                                'agreement', a.code) order by r.referred_at), '[]')
                        from refuge.case_referral r join refuge.process_case c on c.id = r.case_id
                        join refuge.partner_organisation po on po.id = r.partner_id
                        left join refuge.sharing_agreement a on a.id = r.agreement_id
                        join refuge.case_module m on m.code = c.module
                       where exists (select 1 from refuge.case_member cm where cm.case_id = c.id and cm.individual_id = p.id)
                         and (c.principal_id = p.id or not m.sensitive) and c.module <> 'FRAUD'
                         and (not m.sensitive or refuge.may_work_case(c.module, c.operation_id, c.site_id))),
        'assistance', (select coalesce(jsonb_agg(jsonb_build_object('outcome', x.outcome, 'at', x.created_at,
                                                                 'site', (select s.code from refuge.site s where s.id = x.site_id))
                                               order by x.created_at), '[]')
                         from refuge.collection x where x.collector_id = p.id),
        'biometrics', (select jsonb_build_object('enrolled', e.individual_id is not null, 'status', e.status,
                                                 'enrolled_at', e.enrolled_at,
                                                 'fingers', (select count(*) from refuge.biometric_finger f where f.individual_id = p.id),
                                                 'irises', (select count(*) from refuge.biometric_iris f where f.individual_id = p.id),
                                                 'images_held', (select count(*) from refuge.biometric_vault v where v.individual_id = p.id))
                         from (select 1) one left join refuge.biometric_enrolment e on e.individual_id = p.id),
        'documents_issued', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(d) - 'payload' - 'key_id' - 'photo_digest' - 'replaces') order by d.created_at), '[]')
                               from refuge.issued_document d where d.individual_id = p.id),
        'consents', (select coalesce(jsonb_agg(jsonb_strip_nulls(to_jsonb(c)) order by c.purpose, c.given_at), '[]')
                       from refuge.consents(p.id) c),
        'notices', (select coalesce(jsonb_agg(jsonb_build_object('purpose', n.purpose, 'notice_version', n.notice_version,
                                                              'language', n.language, 'given_at', n.given_at) order by n.given_at), '[]')
                      from refuge.information_notice n where n.individual_id = p.id and refuge.purpose_in_reach(n.purpose, p)),
        -- (the purposes written with a read can name other people, such as a
        -- search's candidates: when, who and what kind only)
        'reads_of_sensitive_records', (select coalesce(jsonb_agg(jsonb_build_object('at', r.at, 'by', r.actor, 'kind', r.kind)
                                                               order by r.at), '[]')
                                         from refuge.sensitive_read r
                                        where r.individual_id = p.id and r.module is distinct from 'FRAUD'
                                          and (r.module is null or not exists (select 1 from refuge.case_module m
                                                                                where m.code = r.module and m.sensitive)
                                               or refuge.may_work_case(r.module, p.operation_id, p.site_id))),
        'image_openings', (select coalesce(jsonb_agg(jsonb_build_object('at', v.accessed_at, 'by', v.accessed_by)
                                                  order by v.accessed_at), '[]')
                             from refuge.vault_access v where v.individual_id = p.id));
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'subject_access', 'object_id', p.id, 'individual_id', p.id,
        'operation_id', p.operation_id, 'purpose', 'subject access request of ' || p.number))));
    return res;
end
$$;
comment on function refuge.subject_access(uuid) is
    'everything Refuge holds on a person, for their request of access (structure in the README); the request is logged';
grant execute on function refuge.subject_access(uuid) to refuge_supervisor, refuge_protection;

-- The same as a PDF to hand to the person (libharu, refuge.render_pdf).
create function refuge.subject_access_pdf(individual_id uuid) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    j jsonb := refuge.subject_access(subject_access_pdf.individual_id);
    -- entries printed per section (each takes a line or a few)
    max_entries constant integer := 250;
    lines text[];
    k text;
    v jsonb;
    e jsonb;
begin
    lines := array['TITLE' || chr(9) || 'Personal data held by UNHCR in Refuge',
                   'SUB' || chr(9) || format('%s - requested %s by %s', j -> 'request' ->> 'number',
                                             to_char((j -> 'request' ->> 'requested_at')::timestamptz, 'YYYY-MM-DD'),
                                             j -> 'request' ->> 'requested_by')];
    for k, v in select x.key, x.value from jsonb_each(j) with ordinality x(key, value, ord)
                 where x.key <> 'request' order by x.ord loop
        lines := lines || ('SECTION' || chr(9) || initcap(replace(k, '_', ' ')));
        if jsonb_typeof(v) = 'object' then
            lines := lines || array(select 'FIELD' || chr(9) || replace(f.key, '_', ' ') || chr(9)
                                           || left(regexp_replace(case when jsonb_typeof(f.value) = 'string' then f.value #>> '{}'
                                                                       else f.value::text end, '[\t\r\n]', ' ', 'g'), 900)
                                      from jsonb_each(v) f);
        elsif jsonb_typeof(v) = 'array' and jsonb_array_length(v) = 0 then
            lines := lines || ('TEXT' || chr(9) || 'none');
        elsif jsonb_typeof(v) = 'array' then
            -- a long history (a person read in thousands of searches) would
            -- outgrow the document: the most recent entries, the counts by
            -- kind, and every entry in the electronic copy
            if jsonb_array_length(v) > max_entries then
                lines := lines || ('TEXT' || chr(9) || format(
                    '%s entries; the %s most recent are printed here, and the electronic copy of this report (refuge.subject_access) lists every one.',
                    jsonb_array_length(v), max_entries));
                lines := lines || array(select 'TEXT' || chr(9) || format('%s: %s', coalesce(x ->> 'kind', 'entries'), count(*))
                                          from jsonb_array_elements(v) x
                                         group by x ->> 'kind' order by count(*) desc, x ->> 'kind' limit 50);
                v := (select jsonb_agg(x.e order by x.i) from jsonb_array_elements(v) with ordinality x(e, i)
                       where x.i > jsonb_array_length(v) - max_entries);
            end if;
            for e in select jsonb_array_elements(v) loop
                lines := lines || ('TEXT' || chr(9) || left(regexp_replace(
                    (select string_agg(replace(f.key, '_', ' ') || ': ' || case when jsonb_typeof(f.value) = 'string'
                                                                            then f.value #>> '{}' else f.value::text end, '; ')
                       from jsonb_each(case when jsonb_typeof(e) = 'object' then e else jsonb_build_object('value', e) end) f),
                    '[\t\r\n]', ' ', 'g'), 900));
            end loop;
        else
            lines := lines || ('TEXT' || chr(9) || 'none');
        end if;
    end loop;
    return refuge.render_pdf('Personal data held by UNHCR', lines, '{}');
end
$$;
comment on function refuge.subject_access_pdf(uuid) is
    'a person''s subject access report as a PDF to hand to them (the request is logged)';
grant execute on function refuge.subject_access_pdf(uuid) to refuge_supervisor, refuge_protection;

-- Does a referral rest on the consent to referral of everyone whose data it
-- shares: the principal, and every adult member when it shares members'
-- details (MEMBERS, CONTACTS, SPECIFIC_NEEDS)?  (Always, when referral is
-- not based on consent.)  And, for a module resting on consent (SGBV), on
-- the principal's consent to the case work.
create function refuge.referral_consented(p_case uuid, p_fields text[], p_agreement uuid) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select (select refuge.legal_basis_of(c.module) is distinct from 'CONSENT' or refuge.valid_consent(c.principal_id, c.module)
              from refuge.process_case c where c.id = p_case)
       and (refuge.legal_basis_of('REFERRAL') is distinct from 'CONSENT'
        or not exists (select 1 from refuge.case_member cm
                         join refuge.process_case c on c.id = cm.case_id
                         join refuge.individual i on i.id = cm.individual_id
                        where cm.case_id = p_case
                          and (cm.individual_id = c.principal_id
                               or (p_fields && array['MEMBERS', 'CONTACTS', 'SPECIFIC_NEEDS']
                                   and (i.date_of_birth is null or i.date_of_birth <= current_date - interval '18 years')))
                          and not refuge.valid_consent(cm.individual_id, 'REFERRAL', p_agreement)));
end;

-- The same as a gate naming the first person without consent; their
-- consents are locked until the referral commits (a withdrawal waits, then
-- revokes it).
create function refuge.require_referral_consent(c refuge.process_case, p_fields text[], p_agreement uuid) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    m uuid;
begin
    perform 1 from refuge.consent x where x.individual_id = c.principal_id and x.purpose = c.module and x.withdrawn_at is null
        for share;
    perform refuge.require_consent(c.principal_id, c.module, 'case_id');
    for m in select cm.individual_id from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
              where cm.case_id = c.id
                and (cm.individual_id = c.principal_id
                     or (p_fields && array['MEMBERS', 'CONTACTS', 'SPECIFIC_NEEDS']
                         and (i.date_of_birth is null or i.date_of_birth <= current_date - interval '18 years')))
              order by cm.individual_id = c.principal_id desc, i.number loop
        perform 1 from refuge.consent x where x.individual_id = m and x.purpose = 'REFERRAL' and x.withdrawn_at is null for share;
        perform refuge.require_consent(m, 'REFERRAL', 'case_id', p_agreement);
    end loop;
end
$$;

-- Set a retention period (refuge_admin, as the data protection officer).
create function refuge.set_retention(category text, keep_for interval, active boolean) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize('refuge_admin', 'set_retention');
    if not exists (select 1 from refuge.retention_rule r where r.category = set_retention.category) then
        perform refuge.raise_field('22023', 'category', format('"%s" is not one of %s', refuge.excerpt(category),
            (select string_agg(r.category, ', ' order by r.category) from refuge.retention_rule r)));
    end if;
    if keep_for is null or keep_for < interval '1 day' or keep_for > interval '100 years' then
        perform refuge.raise_field('22023', 'keep_for', 'must be between 1 day and 100 years');
    end if;
    if active is null then
        perform refuge.raise_field('22004', 'active', 'is required');
    end if;
    insert into refuge.retention_setting as x (category, keep_for, active)
    values (set_retention.category, set_retention.keep_for, set_retention.active)
    on conflict on constraint retention_setting_pkey do update set keep_for = excluded.keep_for, active = excluded.active;
end
$$;
comment on function refuge.set_retention(text, interval, boolean) is
    'set how long a category of data is kept and whether refuge.apply_retention erases it';
grant execute on function refuge.set_retention(text, interval, boolean) to refuge_admin;

-- Apply the retention schedule (refuge_dba; with pg_cron, see the README):
-- a dry run lists per active category what would be erased and why; the
-- real run erases it.  Both are recorded in refuge.retention_run (counts
-- and dates, never the data).  Images are deleted from the vault; SGBV
-- narratives are replaced by a sealed marker.  The audit trail holds of
-- these only sizes and digests, so nothing of them remains and
-- refuge.verify_audit() still verifies.
create function refuge.apply_retention(dry_run boolean default true)
    returns table (category text, action text, affected bigint, oldest timestamptz, newest timestamptz, reason text)
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r record;
    n bigint;
    o timestamptz;
    nw timestamptz;
    why text;
    keyed boolean := refuge.vault_key_loaded();
begin
    perform refuge.authorize('refuge_dba', 'apply_retention');
    if dry_run is null then
        perform refuge.raise_field('22004', 'dry_run', 'is required');
    end if;
    -- one run at a time (two would count the same erasure twice)
    perform pg_advisory_xact_lock(hashtext('refuge.apply_retention'));
    for r in select x.category, x.label, x.action, x.counted_from, st.keep_for
               from refuge.retention_rule x join refuge.retention_setting st on st.category = x.category
              where st.active order by x.category loop
        why := format('%s older than %s days counted from %s', r.label,
                      round(extract(epoch from r.keep_for) / 86400), r.counted_from);
        if r.category = 'BIOMETRIC_SOURCE_IMAGES' then
            -- (each node erases the rows it owns: erasing another's would send
            -- the row's content back to it through replication)
            select count(*), min(v.created_at), max(v.created_at) into n, o, nw
              from refuge.biometric_vault v
             where v.part <> 'face' and v.created_at < now() - r.keep_for and v.sync_owner = refuge.local_node();
            if not dry_run and n > 0 then
                delete from refuge.biometric_vault v
                 where v.part <> 'face' and v.created_at < now() - r.keep_for and v.sync_owner = refuge.local_node();
                get diagnostics n = row_count;
            end if;
        elsif r.category = 'FACE_IMAGES_INACTIVE' then
            -- closed or deceased for the period (counted from the later of the
            -- status date and the last change of the record: a back-dated
            -- status does not shorten it), no document still valid that
            -- prints the face, the image itself older than the period
            select count(*), min(v.created_at), max(v.created_at) into n, o, nw
              from refuge.biometric_vault v join refuge.individual i on i.id = v.individual_id
             where v.part = 'face' and i.status in ('CLOSED', 'DECEASED')
               and greatest(i.status_date, i.updated_at::date) < current_date - r.keep_for
               and v.created_at < now() - r.keep_for and v.sync_owner = refuge.local_node()
               and not exists (select 1 from refuge.issued_document d where d.individual_id = i.id and d.status = 'VALID'
                                  and d.valid_to >= current_date);
            if not dry_run and n > 0 then
                delete from refuge.biometric_vault v using refuge.individual i
                 where i.id = v.individual_id and v.part = 'face' and i.status in ('CLOSED', 'DECEASED')
                   and greatest(i.status_date, i.updated_at::date) < current_date - r.keep_for
                   and v.created_at < now() - r.keep_for and v.sync_owner = refuge.local_node()
                   and not exists (select 1 from refuge.issued_document d where d.individual_id = i.id and d.status = 'VALID'
                                      and d.valid_to >= current_date);
                get diagnostics n = row_count;
            end if;
        elsif r.category = 'SGBV_NARRATIVES' then
            select count(*), min(c.updated_at), max(c.updated_at) into n, o, nw
              from refuge.gbv_incident g join refuge.process_case c on c.id = g.case_id
             where c.closed and c.updated_at < now() - r.keep_for and g.narrative_erased_at is null
               and g.sync_owner = refuge.local_node();
            if not keyed then
                why := why || '; the vault key is not loaded here: nothing erased';
                if not dry_run then
                    n := 0;
                end if;
            elsif not dry_run and n > 0 then
                update refuge.gbv_incident g
                   set sealed = refuge.vault_seal(convert_to(jsonb_build_object('narrative_erased_at', now())::text, 'UTF8'),
                                                  'gbv_incident:' || g.case_id),
                       narrative_erased_at = now()
                  from refuge.process_case c
                 where c.id = g.case_id and c.closed and c.updated_at < now() - r.keep_for and g.narrative_erased_at is null
                   and g.sync_owner = refuge.local_node();
                get diagnostics n = row_count;
            end if;
        else
            continue;
        end if;
        insert into refuge.retention_run (run_by, dry_run, category, action, affected, oldest, newest, note)
        values (refuge.caller(), dry_run, r.category, r.action, n, o, nw, why);
        category := r.category; action := r.action; affected := n; oldest := o; newest := nw; reason := why;
        return next;
    end loop;
end
$$;
comment on function refuge.apply_retention(boolean) is
    'apply the retention schedule: dry run (the default) lists what would be erased and why; false erases it; both recorded in refuge.retention_run';
grant execute on function refuge.apply_retention(boolean) to refuge_dba;
