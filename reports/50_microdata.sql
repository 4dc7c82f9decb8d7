-- Anonymised microdata for researchers (issue 18): the active people of a
-- warehouse snapshot as records a research agreement may receive, with
-- sdcMicro's methods (Templ, Kowarik and Meindl, 2015) done set-wise:
-- global recoding with top and bottom coding, local suppression until
-- every combination of the quasi-identifiers is shared by at least k
-- records (a suppressed value counts as a value of its own, "*", which is
-- never less protective than sdcMicro's wildcard), record suppression of
-- what remains, and l-diversity of the sensitive attribute (the record's
-- specific-need categories) by suppressing it in classes with fewer than l
-- distinct values.  The report gives the disclosure risk that remains.

create function refuge.microdata_extract(snapshot_id integer, agreement text, k integer default 5, l integer default 2)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
    -- suppressed in this order: the least useful to research first
    order_of_suppression constant text[] := array['arrival_year', 'family_size', 'population_type', 'origin_country',
                                                  'age_band', 'sex', 'operation'];
    att text;
    n_in bigint;
    n bigint;
    suppressed jsonb := '{}';
    dropped bigint;
    sensitive_suppressed bigint;
    eid integer;
    report jsonb;
begin
    perform refuge.authorize('refuge_dba', 'microdata_extract');
    if not exists (select 1 from refuge_warehouse.snapshot s where s.id = microdata_extract.snapshot_id) then
        perform refuge.raise_field('P0002', 'snapshot_id', format('no snapshot %s', coalesce(snapshot_id::text, 'null')));
    end if;
    if k is null or k < 3 or k > 100 then
        perform refuge.raise_field('22023', 'k', format('%s is not between 3 and 100', coalesce(k::text, 'null')));
    end if;
    if l is null or l < 2 or l > 20 then
        perform refuge.raise_field('22023', 'l', format('%s is not between 2 and 20', coalesce(l::text, 'null')));
    end if;
    a := refuge.agreement_for(agreement, 'RESEARCHER', null, 'RESEARCH', array['MICRODATA'], 'agreement');

    -- global recoding: five-year age bands top-coded at 60, family size
    -- banded and top-coded at 7, arrival year bottom-coded at 2000
    -- (never "if not exists": a table the caller made beforehand, with
    -- triggers of theirs, would run them with the owner's rights)
    create temp table md (operation text, sex text, age_band text, origin_country text, family_size text,
                          arrival_year text, population_type text, specific_needs text, ck text) on commit drop;
    insert into md
    select f.operation, f.sex,
           case when f.age is null then null when f.age >= 60 then '60+'
                else (f.age / 5 * 5)::text || '-' || (f.age / 5 * 5 + 4)::text end,
           f.origin_country,
           case when fs.size is null then null when fs.size >= 7 then '7+' when fs.size >= 5 then '5-6' else fs.size::text end,
           case when f.arrival_date is null then null when f.arrival_date < date '2001-01-01' then '2000 or before'
                else extract(year from f.arrival_date)::integer::text end,
           f.population_type,
           coalesce(nullif(array_to_string(array(select distinct x from unnest(f.specific_needs) x order by x), ','), ''), 'none')
      from refuge_warehouse.individual_fact f
      left join (select x.family, count(*) as size from refuge_warehouse.individual_fact x
                  where x.snapshot_id = microdata_extract.snapshot_id and x.status = 'ACTIVE' and x.family is not null
                  group by x.family) fs on fs.family = f.family
     where f.snapshot_id = microdata_extract.snapshot_id and f.status = 'ACTIVE';
    get diagnostics n_in = row_count;

    -- local suppression: the records of classes smaller than k lose the
    -- next quasi-identifier, the classes are formed again
    update md set ck = concat_ws('|', coalesce(md.operation, '*'), coalesce(md.sex, '*'), coalesce(md.age_band, '*'),
                                 coalesce(md.origin_country, '*'), coalesce(md.family_size, '*'), coalesce(md.arrival_year, '*'),
                                 coalesce(md.population_type, '*'));
    foreach att in array order_of_suppression loop
        execute format('update md set %1$I = null where %1$I is not null
                          and ck in (select m.ck from md m group by m.ck having count(*) < $1)', att) using k;
        get diagnostics n = row_count;
        suppressed := suppressed || jsonb_build_object(att, n);
        update md set ck = concat_ws('|', coalesce(md.operation, '*'), coalesce(md.sex, '*'), coalesce(md.age_band, '*'),
                                     coalesce(md.origin_country, '*'), coalesce(md.family_size, '*'), coalesce(md.arrival_year, '*'),
                                     coalesce(md.population_type, '*'));
    end loop;
    -- what is still alone is not released
    delete from md where ck in (select m.ck from md m group by m.ck having count(*) < k);
    get diagnostics dropped = row_count;
    -- l-diversity: a class whose members share fewer than l distinct
    -- specific-need values would tell them; the attribute is suppressed there
    update md set specific_needs = null
     where ck in (select m.ck from md m group by m.ck having count(distinct m.specific_needs) < l);
    get diagnostics sensitive_suppressed = row_count;

    with cls as (select m.ck, count(*) as size from md m group by m.ck)
    select jsonb_build_object(
               'records_in', n_in, 'records_released', (select count(*) from md), 'records_suppressed', dropped,
               'values_suppressed', suppressed, 'sensitive_values_suppressed', sensitive_suppressed,
               'k', k, 'l', l, 'equivalence_classes', (select count(*) from cls),
               'smallest_class', (select min(size) from cls),
               -- each record's re-identification risk taken as 1 / its class's size (the sample is the population)
               'max_individual_risk', (select round(1.0 / min(size), 4) from cls),
               'mean_individual_risk', (select round(count(*)::numeric / nullif(sum(size), 0), 4) from cls),
               'expected_reidentifications', (select count(*) from cls),
               'records_at_risk_above_0.1', (select coalesce(sum(size), 0) from cls where size < 10),
               'min_distinct_sensitive', (select min(d) from (select count(distinct m.specific_needs) as d from md m
                                                              where m.specific_needs is not null group by m.ck) x),
               'quasi_identifiers', to_jsonb(array['operation', 'sex', 'age_band', 'origin_country', 'family_size', 'arrival_year',
                                                   'population_type']),
               'sensitive', 'specific_needs',
               'recoding', jsonb_build_object('age_band', 'five-year bands, top-coded at 60+',
                                              'family_size', '1, 2, 3, 4, 5-6, 7+ (active members)',
                                              'arrival_year', 'year, bottom-coded at 2000 or before'))
      into report;
    insert into refuge_warehouse.microdata_extract (snapshot_id, agreement_id, k, l, quasi_identifiers, sensitive, report)
    values (microdata_extract.snapshot_id, a.id, k, l,
            array['operation', 'sex', 'age_band', 'origin_country', 'family_size', 'arrival_year', 'population_type'],
            'specific_needs', report)
    returning id into eid;
    -- records in random order: nothing of the registration order is kept
    insert into refuge_warehouse.microdata_record (extract_id, record, operation, sex, age_band, origin_country, family_size,
                                                   arrival_year, population_type, specific_needs)
    select eid, row_number() over (order by random()), m.operation, m.sex, m.age_band, m.origin_country, m.family_size,
           m.arrival_year, m.population_type, m.specific_needs
      from md m;
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'microdata_extract', 'object_id', a.id,
        'purpose', format('microdata extract %s of snapshot %s for %s under agreement %s (k = %s, l = %s, %s records)',
                          eid, snapshot_id, a.party_name, a.code, k, l, report ->> 'records_released')))));
    drop table md;
    return jsonb_build_object('extract_id', eid, 'agreement', a.code) || report;
end
$$;
comment on function refuge.microdata_extract(integer, text, integer, integer) is
    'an anonymised microdata extract of a snapshot for researchers under an agreement (k-anonymity, l-diversity, local suppression, top/bottom coding), with its disclosure-risk report';
grant execute on function refuge.microdata_extract(integer, text, integer, integer) to refuge_dba;
