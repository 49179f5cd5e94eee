-- Each comparison region's indicators in the units a reader knows, year by year: what the OECD regional profiles
-- and the Regional Innovation Scoreboard's regional profiles lead with (the value, its change, the region against
-- its country, its rank among the regions it is compared with).
--   value             the indicator as a reader would quote it: as published for rates, shares and money
--                     (comparability as_is and relative_to_country: rub, EUR, %, years), and as the comparable rate
--                     for counts (per_1000_employed, per_10000_employed, per_capita, per_10000_population): a count
--                     of technologies or researchers says little until it is put per employed person
--   unit              the catalog unit of that value, or the comparability rule when the value is a rate
--   value_1y_before,  the same value one and five years earlier (null when that year has no value)
--   value_5y_before
--   country_value     the country's value of the same year, in the same unit
--   percent_of_country  100 x value / country_value (null when either is not positive: a negative migration
--                     balance has no share of the country's); also one and five years earlier, so that a money
--                     value's nominal change can be read against the country's
--   rank, n_regions   position among the comparison regions of the same universe and year that have the comparable
--                     value (1 = best, direction-aware; ties share the best rank), the same rule as the codes'
--                     ranks in rank_intervals
-- Context indicators (population, GRP, area, urban share) are included: they carry weight 0 in the codes but a
-- reader needs them to place a region.
with comparable as (

    select * from {{ ref('int_indicator_values_comparable') }}

),

catalog as (

    select indicator_code, unit from {{ ref('indicators') }}

),

shown as (

    select
        c.region_code,
        c.country,
        c.level,
        c.universe,
        c.indicator_code,
        c.family,
        c.direction,
        c.weight,
        c.comparability,
        c.period as year,
        case when c.comparability in ('as_is', 'relative_to_country') then c.value else c.comparable_value end
            as value,
        case when c.comparability in ('as_is', 'relative_to_country') then k.unit else c.comparability end as unit,
        c.comparable_value
    from comparable as c
    inner join catalog as k on k.indicator_code = c.indicator_code

),

comparison_regions as (

    select *
    from shown
    where {{ is_comparison_region() }}

),

ranked as (

    select
        *,
        case when comparable_value is not null then
            rank() over (
                partition by universe, year, indicator_code, comparable_value is null
                order by direction * comparable_value desc
            )
        end as rank,
        count(comparable_value) over (partition by universe, year, indicator_code) as n_regions
    from comparison_regions

),

countries as (

    select region_code as country, indicator_code, year, value as country_value
    from shown
    where level = 'country'

),

with_country as (

    select
        r.*,
        k.country_value,
        case when r.value > 0 and k.country_value > 0 then 100.0 * r.value / k.country_value end as percent_of_country
    from ranked as r
    left join countries as k on k.country = r.country and k.indicator_code = r.indicator_code and k.year = r.year

)

select
    r.region_code,
    r.country,
    r.universe,
    r.year,
    r.indicator_code,
    r.family,
    r.direction,
    r.weight,
    r.comparability,
    r.unit,
    r.value,
    before_1.value as value_1y_before,
    before_5.value as value_5y_before,
    r.country_value,
    r.percent_of_country,
    before_1.percent_of_country as percent_of_country_1y_before,
    before_5.percent_of_country as percent_of_country_5y_before,
    r.rank,
    r.n_regions,
    {{ build_columns() }}
from with_country as r
left join with_country as before_1
    on before_1.region_code = r.region_code and before_1.indicator_code = r.indicator_code
    and before_1.year = r.year - 1
left join with_country as before_5
    on before_5.region_code = r.region_code and before_5.indicator_code = r.indicator_code
    and before_5.year = r.year - 5
where r.value is not null
