-- The points behind marts.code_correlations: for each pair of the correlation_pairs seed (x = education
-- unless the seed names another indicator), each scope and group, and each method, one (x, y) point.
--   scopes   region             a comparison region's own series over the window
--            district_aggregate a federal district's (NUTS-1's) own published series, as in Fig. 2 of the code-based model
--            district_pooled    all region-years of the district's comparison regions
--            country_pooled     all region-years of the country's comparison regions
--   methods  levels             the values
--            changes            year-on-year changes (across a gap of k years divided by k), because two
--                               trending series correlate whatever their relation
--            cross_section      pooled scopes only: the regions of the group in one year (column year)
-- Education: var('education_indicator') (share of employed with higher education) where the territory has at
-- least var('correlation_min_points') paired values in the window, else var('education_proxy_indicator');
-- a pooled group uses the paper's measure only when every member region does (one measure per regression).
-- Values: comparable values (relative to country = 100, per capita, per employed) by default, so that the
-- common nominal trend of rouble series does not manufacture correlation; var('correlation_value_basis') =
-- 'published' uses the values as published.
{%- set primary = var('education_indicator') -%}
{%- set proxy = var('education_proxy_indicator') -%}
{%- set min_points = var('correlation_min_points') -%}
{%- set value_column = 'value' if var('correlation_value_basis') == 'published' else 'comparable_value' %}

with pairs as (

    select * from {{ ref('correlation_pairs') }}

),

register as (

    select
        region_code,
        country,
        level,
        nullif(parent_code, '') as parent_code,
        nullif(universe, '') as universe
    from {{ ref('regions') }}

),

comparison_regions as (

    select region_code, country, parent_code
    from register
    where {{ is_comparison_region() }}

),

territories as (

    -- the series correlated on their own: comparison regions and the districts they belong to
    select region_code as territory, 'region' as scope, country, parent_code as district
    from comparison_regions
    union all
    select distinct parent_code as territory, 'district_aggregate' as scope, country, parent_code as district
    from comparison_regions
    where parent_code is not null

),

window_values as (

    select region_code, indicator_code, period as year, {{ value_column }} as v
    from {{ ref('int_indicator_values_comparable') }}
    where period between {{ var('correlation_start_year') }} and {{ var('correlation_end_year') }}
      and {{ value_column }} is not null

),

pair_values as (

    -- y and both candidate x measures per territory and year
    select
        p.pair_code,
        p.x_indicator = 'education' as x_is_education,
        case when p.x_indicator = 'education' then '{{ primary }}' else p.x_indicator end as x_primary_indicator,
        case when p.x_indicator = 'education' then '{{ proxy }}' else p.x_indicator end as x_proxy_indicator,
        y.region_code as territory,
        y.year,
        y.v as y,
        xp.v as x_primary,
        xq.v as x_proxy
    from pairs as p
    inner join window_values as y on y.indicator_code = p.y_indicator
    left join window_values as xp
        on xp.region_code = y.region_code and xp.year = y.year
        and xp.indicator_code = case when p.x_indicator = 'education' then '{{ primary }}' else p.x_indicator end
    left join window_values as xq
        on xq.region_code = y.region_code and xq.year = y.year
        and xq.indicator_code = case when p.x_indicator = 'education' then '{{ proxy }}' else p.x_indicator end

),

own_choice as (

    -- the measure each territory's own series uses
    select
        t.territory,
        t.scope,
        t.country,
        t.district,
        p.pair_code,
        bool_or(p.x_is_education) as x_is_education,
        count(p.x_primary) >= {{ min_points }} as uses_primary
    from territories as t
    inner join pair_values as p on p.territory = t.territory
    group by t.territory, t.scope, t.country, t.district, p.pair_code

),

pooled_choice as (

    -- a pooled group uses the paper's measure only when every member region does
    select 'district_pooled' as scope, district as group_code, pair_code, bool_and(uses_primary) as uses_primary
    from own_choice
    where scope = 'region' and district is not null
    group by district, pair_code
    union all
    select 'country_pooled' as scope, country as group_code, pair_code, bool_and(uses_primary) as uses_primary
    from own_choice
    where scope = 'region'
    group by country, pair_code

),

series as (

    -- one row per pair, scope, group, member territory and year, with the x measure chosen for the group
    select
        o.pair_code,
        o.scope,
        o.territory as group_code,
        o.territory as member_code,
        o.uses_primary,
        o.x_is_education,
        p.x_primary_indicator,
        p.x_proxy_indicator,
        p.year,
        case when o.uses_primary then p.x_primary else p.x_proxy end as x,
        p.y
    from own_choice as o
    inner join pair_values as p on p.territory = o.territory and p.pair_code = o.pair_code
    union all
    select
        g.pair_code,
        g.scope,
        g.group_code,
        o.territory as member_code,
        g.uses_primary,
        o.x_is_education,
        p.x_primary_indicator,
        p.x_proxy_indicator,
        p.year,
        case when g.uses_primary then p.x_primary else p.x_proxy end as x,
        p.y
    from pooled_choice as g
    inner join own_choice as o
        on o.scope = 'region' and o.pair_code = g.pair_code
        and g.group_code = case g.scope when 'district_pooled' then o.district else o.country end
    inner join pair_values as p on p.territory = o.territory and p.pair_code = o.pair_code

),

complete as (

    select * from series where x is not null and y is not null

),

changes as (

    select
        *,
        (x - lag(x) over by_member) / (year - lag(year) over by_member) as dx,
        (y - lag(y) over by_member) / (year - lag(year) over by_member) as dy
    from complete
    window by_member as (partition by pair_code, scope, group_code, member_code order by year)

),

points as (

    select
        pair_code, scope, group_code, member_code, uses_primary, x_is_education, x_primary_indicator,
        x_proxy_indicator, year, 'levels' as method, cast(null as integer) as cross_section_year,
        x as point_x, y as point_y
    from complete
    union all
    select
        pair_code, scope, group_code, member_code, uses_primary, x_is_education, x_primary_indicator,
        x_proxy_indicator, year, 'changes' as method, cast(null as integer) as cross_section_year,
        dx as point_x, dy as point_y
    from changes
    where dx is not null and dy is not null
    union all
    select
        pair_code, scope, group_code, member_code, uses_primary, x_is_education, x_primary_indicator,
        x_proxy_indicator, year, 'cross_section' as method, year as cross_section_year,
        x as point_x, y as point_y
    from complete
    where scope in ('district_pooled', 'country_pooled')

)

select
    pair_code,
    scope,
    group_code,
    method,
    cross_section_year as year,
    member_code,
    year as point_year,
    case when uses_primary then x_primary_indicator else x_proxy_indicator end as x_indicator,
    case
        when not x_is_education then null
        when uses_primary then 'employed_with_higher_education'
        else 'proxy'
    end as education_measure,
    point_x as x,
    point_y as y
from points
