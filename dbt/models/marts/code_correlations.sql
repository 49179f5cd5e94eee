-- The empirical check of the code-based model (its Fig. 2; doc paper_code_model in models/_papers.md): for each pair of the correlation_pairs seed, scope, group and
-- method (levels, year-on-year changes, cross-section per year), the Pearson correlation r, the OLS line
-- y = intercept + slope x, R^2 = r^2, n, and the two-sided p-value of H0: rho = 0 (t = r sqrt((n-2)/(1-r^2))
-- with n - 2 df; DuckDB has no t CDF, see macro analysis_correlation_p_value). Statistics are rounded to 12
-- significant digits so that a rebuild gives the same numbers whatever the aggregation order.
{#- The grain: one row per pair, scope, group, method and (for a cross-section) year. -#}
{%- set grain = ['pair_code', 'scope', 'group_code', 'method', 'year'] %}

with points as (

    select * from {{ ref('int_analysis_correlation_points') }}

),

pairs as (

    select * from {{ ref('correlation_pairs') }}

),

fitted as (

    select
        {{ grain | join(', ') }},
        any_value(x_indicator) as x_indicator,
        any_value(education_measure) as education_measure,
        count(*) as n,
        count(distinct member_code) as n_territories,
        min(point_year) as first_year,
        max(point_year) as last_year,
        corr(y, x) as r_raw,
        regr_slope(y, x) as slope_raw,
        regr_intercept(y, x) as intercept_raw,
        -- variance relative to the series' scale: a constant series (an EU region that is its own country,
        -- relative to the country = 100 in every year) has a variance of 1e-28 from rounding, not 0, and a
        -- correlation of that noise would change from build to build; below 1e-20 of the squared scale is none
        case when var_pop(x) > 1e-20 * greatest(1.0, max(abs(x))) ^ 2 then var_pop(x) else 0.0 end as var_x,
        case when var_pop(y) > 1e-20 * greatest(1.0, max(abs(y))) ^ 2 then var_pop(y) else 0.0 end as var_y
    from points
    group by {{ grain | join(', ') }}

),

expected_groups as (

    -- every pair is expected for every district and country of the measured comparison regions of this build
    -- (int_region_universes): a group with no paired values still gets a (null) row saying why, so a missing
    -- measure is visible, not an empty table (the register holds every NUTS-2 region; groups none of whose regions
    -- is measured get no rows)
    select distinct p.pair_code, g.scope, g.group_code, 'levels' as method, cast(null as integer) as year,
        case when p.x_indicator = 'education' then '{{ var("education_indicator") }}' else p.x_indicator end
            as x_indicator
    from pairs as p
    cross join (
        select 'district_pooled' as scope, nullif(r.parent_code, '') as group_code
        from {{ ref('regions') }} as r
        inner join {{ ref('int_region_universes') }} as u on u.region_code = r.region_code
        where u.universe is not null and u.measured
        union
        select 'country_pooled' as scope, r.country as group_code
        from {{ ref('regions') }} as r
        inner join {{ ref('int_region_universes') }} as u on u.region_code = r.region_code
        where u.universe is not null and u.measured
    ) as g
    where g.group_code is not null

),

with_missing as (

    select * from fitted
    union all by name
    select
        e.pair_code, e.scope, e.group_code, e.method, e.year, e.x_indicator,
        cast(null as varchar) as education_measure, 0 as n, 0 as n_territories,
        cast(null as integer) as first_year, cast(null as integer) as last_year,
        cast(null as double) as r_raw, cast(null as double) as slope_raw, cast(null as double) as intercept_raw,
        cast(null as double) as var_x, cast(null as double) as var_y
    from expected_groups as e
    where not exists (
        select 1 from fitted as f
        where f.pair_code = e.pair_code and f.scope = e.scope and f.group_code = e.group_code and f.method = e.method
    )

),

tested as (

    select
        *,
        case when n >= {{ var('correlation_min_points') }} and var_x > 0 and var_y > 0 then r_raw end as r_checked
    from with_missing

),

statistics as (

    select
        {%- for column in grain %}
        t.{{ column }},
        {%- endfor %}
        p.y_indicator,
        t.x_indicator,
        t.education_measure,
        p.code_illustrated,
        p.label_en,
        p.label_ru,
        t.n,
        t.n_territories,
        t.first_year,
        t.last_year,
        t.r_checked,
        case when t.r_checked is not null then t.slope_raw end as slope_raw,
        case when t.r_checked is not null then t.intercept_raw end as intercept_raw,
        case when abs(t.r_checked) < 1 then t.r_checked * sqrt((t.n - 2) / (1 - t.r_checked * t.r_checked)) end
            as t_raw,
        t.n - 2 as degrees_of_freedom,
        {{ analysis_correlation_p_value('t.r_checked', 't.n') }} as p_raw,
        case
            when t.n = 0
                then 'no paired values in ' || {{ var('correlation_start_year') }} || '-' || {{ var('correlation_end_year') }}
                || ': ' || p.y_indicator || ' and the education measure ({{ var("education_indicator") }}, or the proxy '
                || '{{ var("education_proxy_indicator") }}) are not both loaded'
            when t.n < {{ var('correlation_min_points') }}
                then 'fewer than {{ var("correlation_min_points") }} points'
            when not (t.var_x > 0) then 'no variation in ' || t.x_indicator
            when not (t.var_y > 0) then 'no variation in ' || p.y_indicator
        end as null_reason
    from tested as t
    inner join pairs as p on p.pair_code = t.pair_code

)

select
    {{ grain | join(', ') }},
    y_indicator,
    x_indicator,
    education_measure,
    code_illustrated,
    label_en,
    label_ru,
    '{{ var("correlation_value_basis") }}' as value_basis,
    {{ var('correlation_start_year') }} as window_start,
    {{ var('correlation_end_year') }} as window_end,
    n,
    n_territories,
    first_year,
    last_year,
    {{ analysis_round('r_checked') }} as r,
    {{ analysis_round('slope_raw') }} as slope,
    {{ analysis_round('intercept_raw') }} as intercept,
    {{ analysis_round('r_checked * r_checked') }} as r_squared,
    {{ analysis_round('t_raw') }} as t_statistic,
    degrees_of_freedom,
    {{ analysis_round('p_raw') }} as p_value,
    p_raw < {{ var('correlation_alpha') }} as significant,
    null_reason,
    {{ build_columns() }}
from statistics
