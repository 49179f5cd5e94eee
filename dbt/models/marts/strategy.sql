-- The strategy recommendation (Akulov and Chelombitko's rule; doc paper_strategy in models/_papers.md) per
-- comparison region and year: the three scores against their thresholds, the decision and its reasons
-- (int_analysis_strategy_decisions), and what smart specialisation would build on:
--   candidate domains       catalog indicators where the region is in the top quartile of its percentile group
--                           (the country, see var('strategy_percentile_scope')) that year
--                           (percentile >= var('strategy_domain_percentile'), direction-aware), strongest first,
--                           at most var('strategy_max_domains');
--   sector specialisation   location quotients need employment or output by economic activity, which no loaded
--                           source provides: said so in the row;
--   interregional partners  regions of the same federal district (NUTS-1) whose code is strong (percentile >=
--                           var('strategy_strong_percentile')) in a family where this region is weak (< var(
--                           'strategy_weak_percentile')), most complementary first, at most var('strategy_partners_k').
-- The domains and partners are filled for every row; they are the content of a smart specialisation.
{%- set min_regions = var('strategy_min_regions') %}

with decisions as (

    select * from {{ ref('int_analysis_strategy_decisions') }}

),

register as (

    select region_code, name_en, name_ru, nullif(parent_code, '') as parent_code
    from {{ ref('regions') }}

),

catalog as (

    select indicator_code, name_en, name_ru, family, direction
    from {{ ref('indicators') }}
    where family in ({{ sql_list(code_families()) }}) and weight > 0

),

indicator_values as (

    select v.region_code, d.percentile_group, v.indicator_code, v.period as year,
        v.direction * v.comparable_value as oriented_value
    from {{ ref('int_indicator_values_comparable') }} as v
    inner join catalog as c on c.indicator_code = v.indicator_code
    inner join decisions as d on d.region_code = v.region_code and d.year = v.period
    where v.comparable_value is not null

),

indicator_percentiles as (

    select
        *,
        percent_rank() over (partition by percentile_group, year, indicator_code order by oriented_value) as percentile,
        count(*) over (partition by percentile_group, year, indicator_code) as regions
    from indicator_values

),

domains_ranked as (

    select
        p.region_code,
        p.year,
        p.indicator_code,
        p.percentile,
        c.name_en,
        c.name_ru,
        row_number() over (partition by p.region_code, p.year order by p.percentile desc, p.indicator_code) as domain_rank
    from indicator_percentiles as p
    inner join catalog as c on c.indicator_code = p.indicator_code
    where p.regions >= {{ min_regions }} and p.percentile >= {{ var('strategy_domain_percentile') }}

),

domains as (

    select
        region_code,
        year,
        string_agg(indicator_code, '; ' order by domain_rank) as candidate_domains,
        string_agg(name_en, '; ' order by domain_rank) as candidate_domains_en,
        string_agg(name_ru, '; ' order by domain_rank) as candidate_domains_ru
    from domains_ranked
    where domain_rank <= {{ var('strategy_max_domains') }}
    group by region_code, year

),

family_percentiles as (

    select
        c.region_code,
        d.district_code,
        d.percentile_group,
        c.year,
        c.family,
        percent_rank() over (partition by d.percentile_group, c.year, c.family order by c.code) as percentile,
        count(*) over (partition by d.percentile_group, c.year, c.family) as regions
    from {{ ref('int_defining_codes_long') }} as c
    inner join decisions as d on d.region_code = c.region_code and d.year = c.year
    where c.code is not null

),

weak as (

    select * from family_percentiles
    where regions >= {{ min_regions }} and percentile < {{ var('strategy_weak_percentile') }}

),

strong as (

    select * from family_percentiles
    where regions >= {{ min_regions }} and percentile >= {{ var('strategy_strong_percentile') }}

),

weak_families as (

    select
        region_code,
        year,
        string_agg(family, ', ' order by percentile, family) as weak_families
    from weak
    group by region_code, year

),

complements as (

    -- a partner of the same district strong in a family where this region is weak
    select
        w.region_code,
        w.year,
        s.region_code as partner_code,
        count(*) as families_complemented,
        sum(s.percentile - w.percentile) as complementarity,
        string_agg(s.family, ', ' order by s.family) as families,
        string_agg(
            case s.family when 'production' then 'производственный' when 'institutional' then 'институциональный'
                else 'социальный' end,
            ', ' order by s.family
        ) as families_ru
    from weak as w
    inner join strong as s
        on s.district_code = w.district_code and s.year = w.year and s.family = w.family
        and s.region_code <> w.region_code
    group by w.region_code, w.year, s.region_code

),

partners_ranked as (

    select
        c.*,
        r.name_en,
        r.name_ru,
        row_number() over (
            partition by c.region_code, c.year
            order by c.families_complemented desc, c.complementarity desc, c.partner_code
        ) as partner_rank
    from complements as c
    inner join register as r on r.region_code = c.partner_code

),

partners as (

    select
        region_code,
        year,
        string_agg(partner_code, '; ' order by partner_rank) as interregional_partners,
        string_agg(name_en || ' (' || families || ')', '; ' order by partner_rank) as interregional_partners_en,
        string_agg(name_ru || ' (' || families_ru || ')', '; ' order by partner_rank) as interregional_partners_ru
    from partners_ranked
    where partner_rank <= {{ var('strategy_partners_k') }}
    group by region_code, year

),

latest as (

    -- the latest year that has the data: the region's latest year with all three scores (a yearbook prints GRP a
    -- year later than income, so the calendar-latest year lacks significance); where no year has all three, the
    -- region's latest year, whose reasons then say what is missing
    select
        region_code,
        coalesce(
            max(year) filter (where market_score is not null and location_score is not null
                                    and significance_score is not null),
            max(year)) as latest_year
    from decisions
    group by region_code

)

select
    d.region_code,
    d.year,
    d.year = l.latest_year as is_latest_year,
    d.country,
    d.universe,
    d.percentile_group,
    d.district_code,
    d.capital_region,
    d.min_regions,
    d.decision,
    d.reasons_en,
    d.reasons_ru,
    d.population_thousand,
    d.market_basis,
    d.market_capacity,
    d.market_score,
    d.market_threshold,
    d.market_met,
    d.market_missing_reason,
    d.market_missing_reason_ru,
    d.market_missing_code,
    d.market_regions_with_input,
    d.area_thousand_km2,
    d.area_basis,
    d.density_per_km2,
    d.urban_population_share,
    d.transport_indicators_used,
    d.location_score,
    d.location_threshold,
    d.location_met,
    d.location_missing_reason,
    d.location_missing_reason_ru,
    d.location_missing_code,
    d.location_regions_with_input,
    d.grp_total,
    d.grp_national_share,
    d.grp_district_share,
    d.significance_score,
    d.significance_threshold,
    d.significance_met,
    d.significance_missing_reason,
    d.significance_missing_reason_ru,
    d.significance_missing_code,
    d.significance_regions_with_input,
    dm.candidate_domains,
    dm.candidate_domains_en,
    dm.candidate_domains_ru,
    cast(null as varchar) as sector_domains,
    'No sector data loaded: location quotients need employment or output by economic activity (OKVED / NACE '
        || 'sections), which no loaded source provides; candidate domains come from indicator strengths only.'
        as sector_note_en,
    'Отраслевые данные не загружены: для коэффициентов локализации нужны занятость или выпуск по видам '
        || 'экономической деятельности (ОКВЭД / NACE), которых нет ни в одном загруженном источнике; '
        || 'кандидаты в области специализации определены только по сильным показателям.' as sector_note_ru,
    wf.weak_families,
    p.interregional_partners,
    p.interregional_partners_en,
    p.interregional_partners_ru,
    {{ build_columns() }}
from decisions as d
inner join latest as l on l.region_code = d.region_code
left join domains as dm on dm.region_code = d.region_code and dm.year = d.year
left join weak_families as wf on wf.region_code = d.region_code and wf.year = d.year
left join partners as p on p.region_code = d.region_code and p.year = d.year
