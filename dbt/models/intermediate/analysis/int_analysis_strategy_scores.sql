-- A table, not a view like most intermediate models: marts.strategy reads the decisions, a view over these scores,
-- in four places, and as a view the percentile windows over every region-year may be computed again for each.
{{ config(materialized='table') }}
-- The three scores of the strategy rule (Akulov and Chelombitko; doc paper_strategy in models/_papers.md) per
-- comparison region and year, each a percentile (percent_rank, 0 = lowest, 1 = highest) among the comparison
-- regions of the same country and year (var('strategy_percentile_scope') = 'universe' ranks within the comparison
-- universe instead, e.g. one common EU universe):
--   market capacity    population x money income per capita as published: the size of the local market. Where
--                      income is missing, consumer spending per capita x the country's income / spending ratio of
--                      the year, so that a gap does not demote the region (market_basis says which). Within a
--                      country-year this ranks regions exactly as income relative to country = 100 would; across
--                      the countries of one universe it needs a common currency, which a Eurostat universe has.
--   location           economic-geographic location: the mean of the percentiles of density (population / area)
--                      and urbanisation, of the transport indicators in var('strategy_transport_indicators') where
--                      loaded, and capital-region status counted as a component worth 1 (0 when not a capital
--                      region) with weight var('strategy_capital_region_weight'); then ranked again.
--   significance       local significance: the mean of the percentiles of the region's share of national GRP and of
--                      its district's (NUTS-1's) GRP; then ranked again.
-- A score is null, with the reason, when an input is missing or fewer than var('strategy_min_regions') regions of
-- the group have the input that year (a percentile among a handful of regions says nothing).
{%- set transport = var('strategy_transport_indicators') %}
{%- set min_regions = var('strategy_min_regions') %}
{%- set scope = var('strategy_percentile_scope') %}
{%- if scope not in ('country', 'universe') %}
{{ exceptions.raise_compiler_error("strategy_percentile_scope must be 'country' or 'universe', not '" ~ scope ~ "'") }}
{%- endif %}

with register as (

    select
        r.region_code,
        r.country,
        r.level,
        nullif(r.parent_code, '') as parent_code,
        u.universe,  -- the comparison universe of this build (int_region_universes)
        coalesce(r.capital_region, false) as capital_region
    from {{ ref('regions') }} as r
    left join {{ ref('int_region_universes') }} as u on u.region_code = r.region_code

),

comparison_regions as (

    select *
    from register
    where {{ is_comparison_region() }}

),

values_ as (

    select region_code, indicator_code, period as year, value, comparable_value
    from {{ ref('int_indicator_values_comparable') }}

),

inputs as (

    select
        region_code,
        year,
        -- the published values the scores are built from, one column each (catalog indicator -> column)
        {{ pivot_max('indicator_code', 'value',
            ['population', 'money_income_per_capita', 'consumer_spending_per_capita', 'area_km2',
             'urban_population_share', 'grp_total'],
            ['population_thousand', 'income_per_capita', 'spending_per_capita', 'area_thousand_km2',
             'urban_population_share', 'grp_total']) }}
        {%- for t in transport %},
        max(case when indicator_code = '{{ t }}' then comparable_value end) as transport_{{ loop.index }}
        {%- endfor %}
    from values_
    group by region_code, year

),

region_years as (

    select
        c.region_code,
        c.country,
        c.universe,
        c.{{ scope }} as percentile_group,
        c.parent_code as district_code,
        c.capital_region,
        i.year,
        i.population_thousand,
        i.income_per_capita,
        i.spending_per_capita,
        i.area_thousand_km2,
        i.urban_population_share,
        i.grp_total
        {%- for t in transport %},
        i.transport_{{ loop.index }}
        {%- endfor %}
    from comparison_regions as c
    inner join inputs as i on i.region_code = c.region_code

),

totals as (

    -- published country and district GRP; the sum of the comparison regions where none is published
    select
        r.region_code,
        r.year,
        coalesce(country_total.grp_total, sum(r.grp_total) over (partition by r.country, r.year)) as grp_country_total,
        country_total.income_per_capita / nullif(country_total.spending_per_capita, 0) as country_income_to_spending,
        case when r.district_code is not null then
            coalesce(district_total.grp_total, sum(r.grp_total) over (partition by r.district_code, r.year))
        end as grp_district_total
    from region_years as r
    left join inputs as country_total on country_total.region_code = r.country and country_total.year = r.year
    left join inputs as district_total on district_total.region_code = r.district_code and district_total.year = r.year

),

raw_measures as (

    select
        r.*,
        r.population_thousand
            * coalesce(r.income_per_capita, r.spending_per_capita * coalesce(t.country_income_to_spending, 1))
            as market_capacity,
        case
            when r.income_per_capita is not null then 'money_income'
            when r.spending_per_capita is not null and t.country_income_to_spending is not null
                then 'consumer_spending_scaled'
            when r.spending_per_capita is not null then 'consumer_spending'
        end as market_basis,
        r.population_thousand / nullif(r.area_thousand_km2, 0) as density_per_km2,
        r.grp_total / nullif(t.grp_country_total, 0) as grp_national_share,
        r.grp_total / nullif(t.grp_district_total, 0) as grp_district_share
    from region_years as r
    inner join totals as t on t.region_code = r.region_code and t.year = r.year

),

{%- set components = ['market_capacity', 'density_per_km2', 'urban_population_share', 'grp_national_share', 'grp_district_share'] %}
{%- for t in transport %}{% do components.append('transport_' ~ loop.index) %}{% endfor %}

component_percentiles as (

    select
        *
        {%- for c in components %},
        case when {{ c }} is not null and count({{ c }}) over (partition by percentile_group, year) >= {{ min_regions }}
            then percent_rank() over (partition by percentile_group, year, {{ c }} is null order by {{ c }})
        end as {{ c }}_percentile,
        count({{ c }}) over (partition by percentile_group, year) as {{ c }}_regions
        {%- endfor %}
    from raw_measures

),

composites as (

    select
        *,
        case when density_per_km2_percentile is not null and urban_population_share_percentile is not null then
            (density_per_km2_percentile + urban_population_share_percentile
             {%- for t in transport %} + coalesce(transport_{{ loop.index }}_percentile, 0){% endfor %}
             + {{ var('strategy_capital_region_weight') }} * case when capital_region then 1.0 else 0.0 end)
            / (2 {%- for t in transport %} + case when transport_{{ loop.index }}_percentile is not null then 1 else 0 end{% endfor %}
               + {{ var('strategy_capital_region_weight') }})
        end as location_raw,
        case when grp_national_share_percentile is not null and grp_district_share_percentile is not null then
            (grp_national_share_percentile + grp_district_share_percentile) / 2
        end as significance_raw,
        {%- if transport | length > 0 %}
        {% for t in transport %}case when transport_{{ loop.index }}_percentile is not null then 1 else 0 end{% if not loop.last %} + {% endif %}{% endfor %}
        {%- else %}
        0
        {%- endif %} as transport_indicators_used
    from component_percentiles

),

scores as (

    select
        *,
        market_capacity_percentile as market_score,
        case when location_raw is not null and count(location_raw) over (partition by percentile_group, year) >= {{ min_regions }}
            then percent_rank() over (partition by percentile_group, year, location_raw is null order by location_raw)
        end as location_score,
        case when significance_raw is not null and count(significance_raw) over (partition by percentile_group, year) >= {{ min_regions }}
            then percent_rank() over (partition by percentile_group, year, significance_raw is null order by significance_raw)
        end as significance_score
    from composites

)

{#- Why a score is null: the first missing input of the region, else too few regions of the group with the input.
    One entry per score: the columns shown before its reasons, its input checks (condition, code, English, Russian),
    the count of regions with the input, and what the input is called in each language. -#}
{%- set missing_reasons = [
    {'name': 'market', 'columns': ['market_basis', 'market_capacity', 'market_score'],
     'checks': [
        ('population_thousand is null', 'no_population', 'no population for ', 'нет численности населения за '),
        ('income_per_capita is null and spending_per_capita is null', 'no_income',
         'no money income or consumer spending per capita for ', 'нет среднедушевых доходов или потребительских расходов за '),
     ],
     'regions': 'market_capacity_regions', 'measure_en': 'a market size', 'measure_ru': 'размер рынка'},
    {'name': 'location', 'columns': ['density_per_km2', 'urban_population_share', 'transport_indicators_used', 'location_score'],
     'checks': [
        ('population_thousand is null', 'no_population', 'no population for ', 'нет численности населения за '),
        ('area_thousand_km2 is null', 'no_area', 'no territory area for ', 'нет площади территории за '),
        ('urban_population_share is null', 'no_urban_share', 'no urban population share for ', 'нет доли городского населения за '),
     ],
     'regions': 'least(density_per_km2_regions, urban_population_share_regions)',
     'measure_en': 'density and urbanisation', 'measure_ru': 'плотность и урбанизация'},
    {'name': 'significance', 'columns': ['grp_total', 'grp_national_share', 'grp_district_share', 'significance_score'],
     'checks': [
        ('grp_total is null', 'no_grp', 'no GRP for ', 'нет ВРП за '),
        ('grp_national_share is null or grp_district_share is null', 'no_grp_totals', 'no country or district GRP for ', 'нет ВРП страны или округа за '),
     ],
     'regions': 'grp_national_share_regions', 'measure_en': 'GRP', 'measure_ru': 'ВРП'},
] %}

select
    region_code,
    country,
    universe,
    percentile_group,
    district_code,
    year,
    capital_region,
    {{ min_regions }} as min_regions,
    population_thousand
    {%- for score in missing_reasons %}
    {%- for column in score.columns %},
    {{ column }}
    {%- endfor %}
    {#- why the score is missing, as a code and the count behind it, for a reader to word in any language -#},
    case
        {%- for condition, code, en, ru in score.checks %}
        when {{ condition }} then '{{ code }}'
        {%- endfor %}
        when {{ score.name }}_score is null then 'too_few_regions'
    end as {{ score.name }}_missing_code,
    {{ score.regions }} as {{ score.name }}_regions_with_input
    {%- for language in ['en', 'ru'] %},
    case
        {%- for condition, code, en, ru in score.checks %}
        when {{ condition }} then '{{ en if language == 'en' else ru }}' || year
        {%- endfor %}
        when {{ score.name }}_score is null then
        {%- if language == 'en' %}
            'only ' || {{ score.regions }} || ' comparison regions in ' || percentile_group
                || ' have {{ score.measure_en }} for ' || year || ' ({{ min_regions }} needed)'
        {%- else %}
            '{{ score.measure_ru }} за ' || year || ' есть лишь у ' || {{ score.regions }} || ' регионов сравнения в '
                || percentile_group || ' (нужно {{ min_regions }})'
        {%- endif %}
    end as {{ score.name }}_missing_reason{{ '_ru' if language == 'ru' else '' }}
    {%- endfor %}
    {%- endfor %}
from scores
