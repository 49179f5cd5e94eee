-- The weakest defining code family and the weakest dynamic code of each comparison region, for marts.instruments.
-- Reference year: var('instruments_year') when set, else the region's latest year with all three defining codes.
-- "Weakest" is relative: the lowest percentile (percent_rank) among the regions of the same universe that year,
-- because the raw codes of different families sit on different scales (each is a mean of differently
-- distributed indicators). Dynamic codes are averaged over the var('instruments_dynamic_window_years') years up to
-- the reference year (one year's change is noisy). Percentiles are rounded to 9 decimals; ties are all kept.
with codes as (

    select region_code, universe, year, family, code
    from {{ ref('int_defining_codes_long') }}
    where code is not null

),

complete_years as (

    select region_code, universe, year
    from codes
    group by region_code, universe, year
    having count(*) = 3

),

reference_years as (

    select region_code, universe, {{ configured_or_latest_year('instruments_year') }} as reference_year
    from complete_years
    group by region_code, universe

),

family_percentiles as (

    select
        c.region_code,
        c.year,
        'weakest_family' as target_type,
        c.family as code_name,
        c.family,
        c.code as code_value,
        round(percent_rank() over (partition by c.universe, c.year, c.family order by c.code), 9) as percentile
    from codes as c

),

register as (

    select region_code, universe from {{ ref('int_region_universes') }}

),

dynamic_long as (

    {%- for family, code_name in code_families().items() %}
    select d.region_code, g.universe, d.year, '{{ code_name }}' as code_name, '{{ family }}' as family,
        d.{{ code_name }} as rate
    from {{ ref('dynamic_codes') }} as d
    inner join register as g on g.region_code = d.region_code
    where d.{{ code_name }} is not null and g.universe is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

dynamic_means as (

    -- mean rate over the window of years ending in each year
    select
        *,
        avg(rate) over (
            partition by region_code, code_name order by year
            range between {{ var('instruments_dynamic_window_years') }} - 1 preceding and current row
        ) as code_value
    from dynamic_long

),

dynamic_percentiles as (

    select
        region_code,
        year,
        'weakest_dynamic_code' as target_type,
        code_name,
        family,
        code_value,
        round(percent_rank() over (partition by universe, year, code_name order by code_value), 9) as percentile
    from dynamic_means

),

ranked as (

    select
        *,
        rank() over (partition by region_code, target_type order by percentile) as weakness_rank,
        count(*) over (partition by region_code, target_type) as codes_compared
    from (
        select * from family_percentiles
        union all
        select * from dynamic_percentiles
    ) as p
    where exists (
        select 1 from reference_years as r where r.region_code = p.region_code and r.reference_year = p.year
    )

)

select
    region_code,
    year,
    target_type,
    code_name,
    family,
    code_value,
    percentile,
    weakness_rank,
    codes_compared,
    count(*) filter (where weakness_rank = 1) over (partition by region_code, target_type) > 1 as tied
from ranked
