-- HXL export and the SVG population pyramid.

-- The HXL export and the pyramid read only published figures.  The
-- export is for publication: it names the agreement that allows it, and
-- each export is recorded (refuge.publication).  (Analysts also read the
-- published figures themselves: that is work inside the organisation,
-- not a transfer.)
create function refuge.hxl_population_csv(snapshot_id integer, agreement text, min_cell integer default 5) returns text
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    floor_cell integer := greatest(coalesce(min_cell, 1), 1);
    cols text[] := array['female_0_4', 'female_5_11', 'female_12_17', 'female_18_59', 'female_60', 'female_unknown',
                         'female_total', 'male_0_4', 'male_5_11', 'male_12_17', 'male_18_59', 'male_60', 'male_unknown',
                         'male_total', 'total'];
    body text;
    a refuge.sharing_agreement;
begin
    perform refuge.authorize_any(array['refuge_analyst', 'refuge_dba']::name[], 'hxl_population_csv');
    a := refuge.statistics_agreement(agreement);
    if not exists (select 1 from refuge_warehouse.snapshot s where s.id = hxl_population_csv.snapshot_id) then
        raise exception using errcode = 'P0002', message = format('snapshot_id: no snapshot %s', snapshot_id);
    end if;
    -- what was handed out for publication, under which agreement, before it is
    perform refuge.log_durably(jsonb_build_object('publication', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'HXL_POPULATION', 'snapshot_id', snapshot_id, 'agreement_id', a.id,
        'min_cell', floor_cell))));
    -- suppressed figures (null) are empty; a figure under min_cell too
    execute format($q$
        select string_agg(concat_ws(',', p.year, p.origin_country, p.asylum_country, p.population_type, %s), E'\n'
                          order by p.asylum_country, p.origin_country, p.population_type, p.operation)
          from refuge_warehouse.population_statistics p where p.snapshot_id = $1$q$,
        (select string_agg(format('case when p.%1$I = 0 or p.%1$I >= $2 then p.%1$I::text else %2$L end', c, ''), ', ')
           from unnest(cols) c))
        into body using snapshot_id, floor_cell;
    return 'Year,Country of origin,Country of asylum,Population type,'
        || 'Female 0-4,Female 5-11,Female 12-17,Female 18-59,Female 60+,Female unknown age,Female total,'
        || 'Male 0-4,Male 5-11,Male 12-17,Male 18-59,Male 60+,Male unknown age,Male total,Total' || E'\n'
        || '#date+year,#country+code+origin,#country+code+asylum,#indicator+population_type,'
        || '#affected+f+infants+age_0_4,#affected+f+children+age_5_11,#affected+f+adolescents+age_12_17,'
        || '#affected+f+adults+age_18_59,#affected+f+elderly+age_60,#affected+f+unknown_age,#affected+f+total,'
        || '#affected+m+infants+age_0_4,#affected+m+children+age_5_11,#affected+m+adolescents+age_12_17,'
        || '#affected+m+adults+age_18_59,#affected+m+elderly+age_60,#affected+m+unknown_age,#affected+m+total,'
        || '#affected+all+total' || E'\n'
        || coalesce(body || E'\n', '');
end
$$;
comment on function refuge.hxl_population_csv(integer, text, integer) is
    'the UNHCR demographic table of a snapshot as HXL-tagged CSV for publication under an agreement (STATISTICS, AGGREGATE_STATISTICS); suppressed figures (and any under min_cell) are empty';
grant execute on function refuge.hxl_population_csv(integer, text, integer) to refuge_analyst, refuge_dba;

create function refuge.population_pyramid_svg(snapshot_id integer, operation text) returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    bands text[] := refuge_warehouse.age_bands();
    nb integer := cardinality(refuge_warehouse.age_bands());
    bar_h constant integer := 22;
    top constant integer := 60;
    mid constant integer := 400;
    half constant integer := 300;
    tot refuge_warehouse.population_total;
    widest bigint;
    taken timestamptz;
    svg text;
begin
    select s.as_of into taken from refuge_warehouse.snapshot s where s.id = population_pyramid_svg.snapshot_id;
    if taken is null then
        raise exception using errcode = 'P0002', message = format('snapshot_id: no snapshot %s', snapshot_id);
    end if;
    select * into tot from refuge_warehouse.population_total t
     where t.snapshot_id = population_pyramid_svg.snapshot_id and t.operation = population_pyramid_svg.operation;
    if not found then
        raise exception using errcode = 'P0002',
            message = format('operation: no active population of "%s" in snapshot %s', left(operation, 40), snapshot_id);
    end if;
    if tot.individuals is null then
        raise exception using errcode = 'P0002',
            message = format('operation: the population of "%s" in snapshot %s is too small to publish', left(operation, 40), snapshot_id);
    end if;
    select greatest(max(b.individuals), 1) into widest from refuge_warehouse.population_band b
     where b.snapshot_id = population_pyramid_svg.snapshot_id and b.operation = population_pyramid_svg.operation;
    svg := format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="11">',
                  2 * mid, top + nb * bar_h + 50, 2 * mid, top + nb * bar_h + 50)
        || format('<title>Population pyramid, %s, %s</title>', operation, to_char(taken at time zone 'UTC', 'YYYY-MM-DD'))
        || format('<text x="%s" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s: %s people, %s</text>',
                  mid, operation, tot.individuals, to_char(taken at time zone 'UTC', 'YYYY-MM-DD'))
        || format('<text x="%s" y="42" text-anchor="middle" fill="#555">men left, women right; share of the population by age group%s%s</text>',
                  mid, case when tot.unknown_age is null then '; some of unknown age not shown'
                            when tot.unknown_age > 0 then format('; %s of unknown age not shown', tot.unknown_age) else '' end,
                  case when exists (select 1 from refuge_warehouse.population_band b
                                     where b.snapshot_id = population_pyramid_svg.snapshot_id
                                       and b.operation = population_pyramid_svg.operation and b.individuals is null)
                       then '; * withheld (a small group)' else '' end)
        || (select string_agg(
               format('<text x="%s" y="%s" text-anchor="middle">%s</text>', mid, top + (nb - g) * bar_h + 15, bands[g])
            || refuge_warehouse.pyramid_bar(m.individuals, tot.individuals, widest, mid, half, top + (nb - g) * bar_h, bar_h,
                                            'men ' || bands[g], true)
            || refuge_warehouse.pyramid_bar(f.individuals, tot.individuals, widest, mid, half, top + (nb - g) * bar_h, bar_h,
                                            'women ' || bands[g], false), '' order by g)
              from generate_series(1, nb) g
              left join refuge_warehouse.population_band m on m.snapshot_id = population_pyramid_svg.snapshot_id
                    and m.operation = population_pyramid_svg.operation and m.sex = 'M' and m.band = bands[g]
              left join refuge_warehouse.population_band f on f.snapshot_id = population_pyramid_svg.snapshot_id
                    and f.operation = population_pyramid_svg.operation and f.sex = 'F' and f.band = bands[g])
        || format('<text x="%s" y="%s" text-anchor="middle" fill="#555">Men</text>', mid - half / 2, top + nb * bar_h + 25)
        || format('<text x="%s" y="%s" text-anchor="middle" fill="#555">Women</text>', mid + half / 2, top + nb * bar_h + 25)
        || '</svg>';
    return svg;
end
$$;
comment on function refuge.population_pyramid_svg(integer, text) is
    'a population pyramid of an operation at a snapshot as SVG, by age bands that nest in UNHCR''s brackets; withheld bands marked *';
grant execute on function refuge.population_pyramid_svg(integer, text) to refuge_analyst, refuge_dba;

create function refuge_warehouse.pyramid_bar(n bigint, total bigint, widest bigint, mid integer, half integer, y integer,
                                             bar_h integer, label text, left_side boolean)
    returns text
    language sql immutable
    set search_path = pg_catalog, pg_temp
return case
    when n is null then
        format('<text x="%s" y="%s" text-anchor="%s" fill="#333">*</text>', case when left_side then mid - 29 else mid + 29 end,
               y + 15, case when left_side then 'end' else 'start' end)
    else
        format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s: %s</title></rect>',
               case when left_side then mid - 25 - round(half * n / widest::numeric) else mid + 25 end, y + 2,
               round(half * n / widest::numeric), bar_h - 4, case when left_side then '#3b6fb6' else '#e07b39' end, label, n)
        || format('<text x="%s" y="%s" text-anchor="%s" fill="#333">%s%%</text>',
                  case when left_side then mid - 29 - round(half * n / widest::numeric) else mid + 29 + round(half * n / widest::numeric) end,
                  y + 15, case when left_side then 'end' else 'start' end, round(100.0 * n / total, 1))
    end;
comment on function refuge_warehouse.pyramid_bar(bigint, bigint, bigint, integer, integer, integer, integer, text, boolean) is
    'one bar of the SVG population pyramid (internal to population_pyramid_svg)';
grant execute on function refuge_warehouse.pyramid_bar(bigint, bigint, bigint, integer, integer, integer,
    integer, text, boolean) to refuge_analyst, refuge_dba;
