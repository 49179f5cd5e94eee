-- The comparison universe of every territory of the register, decided per build (a table: the comparable values,
-- the defining codes, the strategy scores, the weak codes and marts.regions read it).
--   register_universe  the pool the register puts the territory in (seed regions.universe: RU, EU); it names the
--                      indicator basket (seed universe_indicator_weights); null for territories not compared
--   universe           the universe its values are normalised, ranked and standardised over: its own country when
--                      the country has at least var('universe_min_country_regions') comparison regions of the pool
--                      with data in this build (a value of a code family's indicator in any year), else the pool
--   country_regions    how many comparison regions of the pool in the territory's country have data
--   has_data           whether the territory itself has a value of a code family's indicator in this build
-- Only levels in var('universe_levels') are compared (countries, districts, NUTS-1 and subject parts are not).
{{ config(materialized='table') }}
with register as (

    select region_code, country, level, nullif(universe, '') as register_universe
    from {{ ref('regions') }}

),

with_data as (

    select distinct v.region_code
    from {{ ref('int_indicator_values') }} as v
    inner join {{ ref('indicators') }} as c on c.indicator_code = v.indicator_code
    where c.family in ({{ sql_list(code_families()) }})
      and v.value is not null

),

country_counts as (

    select r.country, r.register_universe, count(*) as country_regions
    from register as r
    inner join with_data as d on d.region_code = r.region_code
    where {{ is_comparison_region('r.register_universe', 'r.level') }}
    group by r.country, r.register_universe

)

select
    r.region_code,
    r.country,
    r.level,
    case when {{ is_comparison_region('r.register_universe', 'r.level') }} then r.register_universe end
        as register_universe,
    case
        when not ({{ is_comparison_region('r.register_universe', 'r.level') }}) then null
        when coalesce(n.country_regions, 0) >= {{ var('universe_min_country_regions') }} then r.country
        else r.register_universe
    end as universe,
    coalesce(n.country_regions, 0) as country_regions,
    d.region_code is not null as has_data
from register as r
left join country_counts as n
    on n.country = r.country and n.register_universe = r.register_universe
left join with_data as d on d.region_code = r.region_code
