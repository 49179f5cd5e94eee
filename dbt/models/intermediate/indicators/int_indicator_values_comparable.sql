-- A table, not a view like most intermediate models: the normalisation, the correlation points, the strategy
-- scores, marts.strategy and a data test read it, and as a view each of them would join every value to the
-- catalog, the register, the country values and the denominators again.
{{ config(materialized='table') }}
-- Comparable over time: each value expressed by its catalog comparability rule.
--   relative_to_country  value / country value of the same year x 100 (country = 100)
--   per_capita           value / population
--   per_1000_employed    value / employed (thousands)
--   per_10000_employed   value / employed (thousands) x 10
--   per_10000_population value / population (thousands) x 10
--   as_is                the published rate as it is
-- A value that cannot be made comparable (no country value, no denominator) stays, null, with the reason.
-- universe is the comparison universe of the territory in this build (int_region_universes: its country when the
-- country has enough comparison regions with data, else its pool); register_universe is the pool (RU, EU).
-- weight is the indicator's weight in the region's pool: the catalog weight unless the seed
-- universe_indicator_weights overrides it there (EU: 0 for indicators without a regional Eurostat series), so a
-- country's regions are measured on their pool's basket; catalog_weight keeps the catalog's.
with values_ as (

    select * from {{ ref('int_indicator_values') }}

),

catalog as (

    select * from {{ ref('indicators') }}

),

universe_weights as (

    select universe, indicator_code, weight from {{ ref('universe_indicator_weights') }}

),

register as (

    select region_code, country, level, universe, register_universe from {{ ref('int_region_universes') }}

),

denominators as (

    select
        region_code,
        period,
        {{ pivot_max('indicator_code', 'value', ['population', 'employed'], ['population_thousand', 'employed_thousand']) }}
    from values_
    group by region_code, period

),

country_values as (

    select
        v.region_code as country,
        v.indicator_code,
        v.period,
        v.value as country_value
    from values_ as v
    inner join register as r on r.region_code = v.region_code and r.level = 'country'

),

joined as (

    select
        v.region_code,
        r.country,
        r.level,
        r.universe,
        r.register_universe,
        v.indicator_code,
        c.family,
        c.direction,
        coalesce(uw.weight, c.weight) as weight,
        c.weight as catalog_weight,
        c.transform,
        c.comparability,
        v.period,
        v.value,
        v.flag,
        v.source,
        v.release,
        cv.country_value,
        d.population_thousand,
        d.employed_thousand
    from values_ as v
    inner join catalog as c on c.indicator_code = v.indicator_code
    inner join register as r on r.region_code = v.region_code
    left join universe_weights as uw on uw.universe = r.register_universe and uw.indicator_code = v.indicator_code
    left join country_values as cv
        on cv.country = r.country and cv.indicator_code = v.indicator_code and cv.period = v.period
    left join denominators as d on d.region_code = v.region_code and d.period = v.period

),

comparable as (

    select
        *,
        case comparability
            when 'as_is' then value
            when 'relative_to_country' then 100.0 * value / nullif(country_value, 0)
            when 'per_capita' then value / nullif(population_thousand * 1000.0, 0)
            when 'per_1000_employed' then value / nullif(employed_thousand, 0)
            when 'per_10000_employed' then 10.0 * value / nullif(employed_thousand, 0)
            when 'per_10000_population' then 10.0 * value / nullif(population_thousand, 0)
        end as comparable_value,
        case
            when value is null then 'cell not published (flag ' || coalesce(flag, 'none given') || ')'
            when comparability = 'relative_to_country' and country_value is null
                then 'no country value for ' || period || ' to compare with'
            when comparability in ('per_capita', 'per_10000_population') and population_thousand is null
                then 'no population for ' || period
            when comparability in ('per_1000_employed', 'per_10000_employed') and employed_thousand is null
                then 'no employed count for ' || period
            when comparability not in (
                'as_is', 'relative_to_country', 'per_capita', 'per_1000_employed',
                'per_10000_employed', 'per_10000_population'
            ) then 'unknown comparability rule ' || comparability
        end as comparability_issue
    from joined

)

select * from comparable
