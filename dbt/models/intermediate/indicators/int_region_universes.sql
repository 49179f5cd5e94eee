-- The comparison universe of every territory of the register, decided per build (a table: the comparable values,
-- the defining codes, the strategy scores, the weak codes, the correlations and marts.regions read it).
--   register_universe  the pool the register puts the territory in (seed regions.universe: RU, EU); it names the
--                      indicator basket (seed universe_indicator_weights); null for territories not compared
--   basket_share       the share of the pool's basket weight (the three code families) the territory has values
--                      of, in any year
--   measured           basket_share >= var('coverage_threshold'): the territory is measured well enough to get
--                      codes (a region with GDP alone is not)
--   country_regions    how many measured comparison regions of the pool the territory's country has
--   universe           the universe its values are normalised, ranked and standardised over: its own country when
--                      country_regions >= var('universe_min_country_regions'), else the pool
-- Only levels in var('universe_levels') are compared (countries, districts, NUTS-1 and subject parts are not).
{{ config(materialized='table') }}
with register as (

    select
        region_code,
        country,
        level,
        case when {{ is_comparison_region("nullif(universe, '')") }} then universe end as register_universe
    from {{ ref('regions') }}

),

basket as (

    select p.register_universe, c.indicator_code, coalesce(uw.weight, c.weight) as weight
    from (select distinct register_universe from register where register_universe is not null) as p
    cross join {{ ref('indicators') }} as c
    left join {{ ref('universe_indicator_weights') }} as uw
        on uw.universe = p.register_universe and uw.indicator_code = c.indicator_code
    where c.family in ({{ sql_list(code_families()) }})

),

present as (

    select distinct region_code, indicator_code
    from {{ ref('int_indicator_values') }}
    where value is not null

),

measured as (

    select
        r.region_code,
        coalesce(sum(b.weight) filter (where p.indicator_code is not null), 0) / nullif(sum(b.weight), 0)
            as basket_share
    from register as r
    inner join basket as b on b.register_universe = r.register_universe
    left join present as p on p.region_code = r.region_code and p.indicator_code = b.indicator_code
    group by r.region_code

),

flagged as (

    select
        r.*,
        m.basket_share,
        coalesce(m.basket_share >= {{ var('coverage_threshold') }} - 1e-9, false) as measured
    from register as r
    left join measured as m on m.region_code = r.region_code

),

country_counts as (

    select country, register_universe, count(*) filter (where measured) as country_regions
    from flagged
    where register_universe is not null
    group by country, register_universe

)

select
    f.region_code,
    f.country,
    f.level,
    f.register_universe,
    f.basket_share,
    f.measured,
    coalesce(n.country_regions, 0) as country_regions,
    case
        when f.register_universe is null then null
        when n.country_regions >= {{ var('universe_min_country_regions') }} then f.country
        else f.register_universe
    end as universe
from flagged as f
left join country_counts as n
    on n.country = f.country and n.register_universe = f.register_universe
