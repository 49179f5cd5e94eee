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

cells as (

    -- per region, year, family and normalisation: the values present and their positions
    select
        n.region_code,
        n.universe,
        n.year,
        n.family,
        n.normalisation,
        list(n.value order by s.slot) as present_values,
        list(s.slot order by s.slot) as present_slots
    from normalised as n
    inner join slots as s on s.family = n.family and s.indicator_code = n.indicator_code
    group by n.region_code, n.universe, n.year, n.family, n.normalisation

),

draw_weights as (

    -- every slot gets a weight (0 where a draw lacks the indicator), so positions always line up
    select k.draw_id, k.normalisation, s.family, list(coalesce(d.weight, 0.0) order by s.slot) as weights
    from (select distinct draw_id, normalisation from draws) as k
    cross join slots as s
    left join draws as d
        on d.draw_id = k.draw_id and d.item_type = 'indicator' and d.item_code = s.indicator_code
    group by k.draw_id, k.normalisation, s.family

),

perturbed_families as (

    -- weighted mean of the indicators present under the draw's weights and normalisation
    -- (a dot product of lists: one row per draw and cell instead of one per draw and indicator)
    select
        w.draw_id,
        c.region_code,
        c.universe,
        c.year,
        c.family,
        list_dot_product(c.present_values, list_select(w.weights, c.present_slots))
            / nullif(list_sum(list_select(w.weights, c.present_slots)), 0) as value
    from cells as c
    inner join draw_weights as w on w.family = c.family and w.normalisation = c.normalisation

),

perturbed_values as (

    select draw_id, region_code, universe, year, family || '_code' as measure, value
    from perturbed_families
    union all
    select
        f.draw_id,
        f.region_code,
        f.universe,
        f.year,
        'composite' as measure,
        3 * sum(w.weight * f.value) / sum(w.weight) as value
    from perturbed_families as f
    inner join draws as w on w.draw_id = f.draw_id and w.item_type = 'family' and w.item_code = f.family
    group by f.draw_id, f.region_code, f.universe, f.year
    having count(*) = 3

),

perturbed_ranks as (

    -- the same regions as the point ranking: perturbed codes exist exactly where the point codes do
    select
        *,
        rank() over (partition by draw_id, universe, year, measure order by round(value, 12) desc) as draw_rank
    from perturbed_values

),

intervals as (

    select
        region_code,
        year,
        measure,
        count(*) as draws,
        quantile_disc(draw_rank, [0.05, 0.5, 0.95]) as rank_quantiles,
        cast(min(draw_rank) as integer) as rank_min,
        cast(max(draw_rank) as integer) as rank_max
    from perturbed_ranks
    group by region_code, year, measure

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
