-- Each weighted indicator value under each normalisation that marts.rank_intervals may draw
-- (var('rank_normalisations')), one column each, over the same comparison universe (all regions, all years),
-- direction-aware:
--   minmax               the warehouse's own: transform, winsorise, min-max (int_indicator_values_normalised)
--   minmax_no_transform  the same without the catalog's log/sqrt transform
--   percentile           the empirical percentile (percent_rank) of the comparable value
--   zscore               (transformed, winsorised value - mean) / sd
-- Only region-years whose defining code of the family exists (the coverage rule is kept, not perturbed).
with normalised as (

    select * from {{ ref('int_indicator_values_normalised') }}
    where weight > 0

),

codes as (

    select region_code, year, family
    from {{ ref('int_defining_codes_long') }}
    where code is not null

),

kept as (

    select n.*
    from normalised as n
    inner join codes as c on c.region_code = n.region_code and c.year = n.period and c.family = n.family

),

bounds as (

    select
        universe,
        indicator_code,
        quantile_cont(comparable_value, {{ var('winsor_lower') }}) as lower_bound,
        quantile_cont(comparable_value, {{ var('winsor_upper') }}) as upper_bound,
        min(comparable_value) as comparable_min,
        max(comparable_value) as comparable_max,
        avg(winsorised_value) as winsorised_mean,
        stddev_pop(winsorised_value) as winsorised_sd
    from normalised
    group by universe, indicator_code

),

percentiles as (

    -- over the whole universe (all regions and years), like the warehouse's own normalisation
    select
        region_code,
        period,
        indicator_code,
        percent_rank() over (partition by universe, indicator_code order by comparable_value) as comparable_percentile
    from normalised

),

alternatives as (

    select
        k.region_code,
        k.universe,
        k.period as year,
        k.family,
        k.indicator_code,
        k.direction,
        k.normalised_value as minmax,
        greatest(b.lower_bound, least(b.upper_bound, k.comparable_value)) as untransformed_winsorised,
        greatest(b.lower_bound, b.comparable_min) as untransformed_min,
        least(b.upper_bound, b.comparable_max) as untransformed_max,
        q.comparable_percentile,
        k.winsorised_value,
        b.winsorised_mean,
        b.winsorised_sd
    from kept as k
    inner join bounds as b on b.universe = k.universe and b.indicator_code = k.indicator_code
    inner join percentiles as q
        on q.region_code = k.region_code and q.period = k.period and q.indicator_code = k.indicator_code

),

{%- set branches = {
    'minmax': 'minmax',
    'minmax_no_transform': "case when untransformed_max > untransformed_min then case when direction = -1 then (untransformed_max - untransformed_winsorised) else (untransformed_winsorised - untransformed_min) end / (untransformed_max - untransformed_min) end",
    'percentile': 'case when direction = -1 then 1 - comparable_percentile else comparable_percentile end',
    'zscore': 'case when winsorised_sd > 0 then direction * (winsorised_value - winsorised_mean) / winsorised_sd end',
} %}
{%- for m in var('rank_normalisations') %}
{%- if m not in branches %}{{ exceptions.raise_compiler_error("rank_normalisations: unknown normalisation '" ~ m ~ "' (known: " ~ branches.keys() | join(', ') ~ ")") }}{% endif %}
{%- endfor %}

wide as (

    -- one row per value, one column per normalisation (all four are computed; var('rank_normalisations') says
    -- which ones the draws use): a quarter of the rows of a long layout
    select
        region_code,
        universe,
        year,
        family,
        indicator_code,
        {%- for m, expression in branches.items() %}
        {{ expression }} as {{ m }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from alternatives

)

select * from wide
where {% for m in branches %}{{ m }} is not null{% if not loop.last %} or {% endif %}{% endfor %}
