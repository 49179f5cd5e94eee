-- Rank robustness (the main complaint against composite scoreboards): the rank of each comparison region within
-- its universe and year on the composite P + I + S and on each defining code, under the var('rank_draws')
-- perturbations of int_analysis_rank_draws (weights drawn around the catalog weights, normalisation drawn from
-- var('rank_normalisations')). Per draw, a family code is the weighted mean of its indicators under the drawn
-- normalisation and weights (the coverage rule of the point codes is kept); the composite is
-- 3 x the family-weighted mean of P, I, S (= P + I + S at equal weights). Rank 1 = highest; ties share the best
-- rank. The interval reported is [rank_low, rank_high] = [min(p5, point rank), max(p95, point rank)]: the 5-95 %
-- range of the perturbed ranks, widened where needed to contain the point rank (point_in_p5_p95 says whether it
-- had to be). Values are rounded to 12 decimals before ranking, so float noise does not break ties.
-- Percentiles are quantile_disc: the ceil(q N)-th smallest of the N perturbed ranks.
-- Cost: one row per draw and region-year with the three family codes and the composite side by side (lists of
-- values and weights, no row per indicator or per family), ranked per draw with one window per measure.

{%- set families = code_families() | list %}
{%- set methods = var('rank_normalisations') %}
{%- set measures = ['composite', 'production_code', 'institutional_code', 'social_code'] %}

with normalised as (

    select * from {{ ref('int_analysis_rank_normalised') }}

),

draws as (

    select * from {{ ref('int_analysis_rank_draws') }}

),

point_codes as (

    select region_code, universe, year, family || '_code' as measure, code as value
    from {{ ref('int_defining_codes_long') }}
    where code is not null

),

point_values as (

    select region_code, universe, year, measure, value from point_codes
    union all
    select region_code, universe, year, 'composite' as measure, sum(value) as value
    from point_codes
    group by region_code, universe, year
    having count(*) = 3

),

point_ranks as (

    select
        *,
        rank() over (partition by universe, year, measure order by round(value, 12) desc) as point_rank,
        count(*) over (partition by universe, year, measure) as n_regions
    from point_values

),

slots as (

    -- a fixed position for each indicator within its family, so values and weights line up as lists
    select family, indicator_code, cast(row_number() over (partition by family order by indicator_code) as integer) as slot
    from (select distinct family, indicator_code from normalised)

),

draw_methods as (

    select distinct draw_id, normalisation from draws

),

draw_weights as (

    -- per draw: for each family, a weight for every slot (0 where a draw lacks the indicator), and the family weight
    select
        k.draw_id,
        k.normalisation,
        {%- for f in families %}
        any_value(w.weights) filter (where w.family = '{{ f }}') as {{ f }}_weights,
        any_value(fw.weight) filter (where fw.item_code = '{{ f }}') as {{ f }}_family_weight{% if not loop.last %},{% endif %}
        {%- endfor %}
    from draw_methods as k
    left join (
        select k.draw_id, s.family, list(coalesce(d.weight, 0.0) order by s.slot) as weights
        from draw_methods as k
        cross join slots as s
        left join draws as d
            on d.draw_id = k.draw_id and d.item_type = 'indicator' and d.item_code = s.indicator_code
        group by k.draw_id, s.family
    ) as w on w.draw_id = k.draw_id
    left join draws as fw on fw.draw_id = k.draw_id and fw.item_type = 'family'
    group by k.draw_id, k.normalisation

),

family_cells as (

    -- per region, year and family: every slot of the family in order (a list of structs sorted by slot; a slot
    -- the region lacks has null values), so that each normalisation's values are a full-length list
    select
        c.region_code,
        c.universe,
        c.year,
        c.family,
        list_sort(list({'slot': s.slot{% for m in methods %}, '{{ m }}': n.{{ m }}{% endfor %}})) as entries
    from (select distinct region_code, universe, year, family from normalised) as c
    inner join slots as s on s.family = c.family
    left join normalised as n
        on n.region_code = c.region_code and n.year = c.year and n.indicator_code = s.indicator_code
    group by c.region_code, c.universe, c.year, c.family

),

cells_wide as (

    -- per region and year, the three families side by side; integer keys for the heavy steps below: cell_id
    -- numbers the region-years, group_id the (universe, year) ranking groups
    select
        r.region_code,
        r.year,
        cast(row_number() over () as integer) as cell_id,
        cast(dense_rank() over (order by r.universe, r.year) as integer) as group_id,
        {%- for f in families %}
        {{ f }}.entries as {{ f }}_entries{% if not loop.last %},{% endif %}
        {%- endfor %}
    from (select distinct region_code, universe, year from family_cells) as r
    {%- for f in families %}
    left join family_cells as {{ f }}
        on {{ f }}.region_code = r.region_code and {{ f }}.year = r.year and {{ f }}.family = '{{ f }}'
    {%- endfor %}

),

cells as (

    -- per region, year and normalisation: each family's values (0 where absent) and presence mask, full length
    {%- for m in methods %}
    select
        cell_id,
        group_id,
        '{{ m }}' as normalisation,
        {%- for f in families %}
        list_transform({{ f }}_entries, lambda e: coalesce(e.{{ m }}, 0.0)) as {{ f }}_values,
        list_transform({{ f }}_entries, lambda e: cast(e.{{ m }} is not null as double)) as {{ f }}_mask{% if not loop.last %},{% endif %}
        {%- endfor %}
    from cells_wide
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

perturbed as (

    -- one row per draw and region-year: each family code is the weighted mean of the indicators present under
    -- the draw's weights and normalisation (values . weights / mask . weights), the composite 3 x their
    -- family-weighted mean; rounded to 12 decimals so float noise does not break ties
    select
        draw_id,
        group_id,
        cell_id,
        {%- for f in families %}
        round({{ f }}_code, 12) as {{ f }}_code,
        {%- endfor %}
        round(3 * ({% for f in families %}{{ f }}_family_weight * {{ f }}_code{% if not loop.last %} + {% endif %}{% endfor %})
            / ({% for f in families %}{{ f }}_family_weight{% if not loop.last %} + {% endif %}{% endfor %}), 12) as composite
    from (
        select
            w.draw_id,
            c.group_id,
            c.cell_id,
            {%- for f in families %}
            w.{{ f }}_family_weight,
            list_dot_product(c.{{ f }}_values, w.{{ f }}_weights)
                / nullif(list_dot_product(c.{{ f }}_mask, w.{{ f }}_weights), 0) as {{ f }}_code{% if not loop.last %},{% endif %}
            {%- endfor %}
        from cells as c
        inner join draw_weights as w on w.normalisation = c.normalisation
    )

),

intervals as (

    -- per measure: the rank of every draw within its (universe, year) group (nulls sort last, so they do not
    -- change the others' ranks), then each region-year's N ranks as a sorted list, whose ceil(q N)-th element is
    -- quantile_disc's q-quantile
    {%- for m in measures %}
    select
        c.region_code,
        c.year,
        '{{ m }}' as measure,
        len(a.ranks) as draws,
        [
            {%- for q in [0.05, 0.5, 0.95] %}
            a.ranks[greatest(1, cast(ceil({{ q }} * len(a.ranks)) as integer))]{% if not loop.last %},{% endif %}
            {%- endfor %}
        ] as rank_quantiles,
        cast(a.ranks[1] as integer) as rank_min,
        cast(a.ranks[-1] as integer) as rank_max
    from (
        select cell_id, list_sort(list(draw_rank)) as ranks
        from (
            select
                cell_id,
                rank() over (partition by draw_id, group_id order by {{ m }} desc) as draw_rank
            from perturbed
            where {{ m }} is not null
        )
        group by cell_id
    ) as a
    inner join cells_wide as c on c.cell_id = a.cell_id
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

quantiles as (

    select
        region_code,
        year,
        measure,
        draws,
        cast(rank_quantiles[1] as integer) as rank_p5,
        cast(rank_quantiles[2] as integer) as rank_median,
        cast(rank_quantiles[3] as integer) as rank_p95,
        rank_min,
        rank_max
    from intervals

)

select
    p.region_code,
    p.universe,
    p.year,
    p.measure,
    p.value as point_value,
    cast(p.point_rank as integer) as point_rank,
    cast(p.n_regions as integer) as n_regions,
    i.draws,
    i.rank_p5,
    i.rank_median,
    i.rank_p95,
    cast(least(i.rank_p5, p.point_rank) as integer) as rank_low,
    cast(greatest(i.rank_p95, p.point_rank) as integer) as rank_high,
    p.point_rank between i.rank_p5 and i.rank_p95 as point_in_p5_p95,
    i.rank_min,
    i.rank_max,
    {{ var('rank_seed') }} as rank_seed,
    '{{ var("rank_normalisations") | join(", ") }}' as normalisations,
    {{ var('rank_weight_concentration') }} as weight_concentration,
    {{ build_columns() }}
from point_ranks as p
inner join quantiles as i
    on i.region_code = p.region_code and i.year = p.year and i.measure = p.measure
