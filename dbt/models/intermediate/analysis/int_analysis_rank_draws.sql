-- The N = var('rank_draws') perturbations behind marts.rank_intervals, reproducible from var('rank_seed'):
--   normalisation  each draw picks one of var('rank_normalisations') with equal probability;
--   weights        each indicator's catalog weight and each family's weight (1 each in the composite P + I + S)
--                  is multiplied by an independent Gamma(c, 1/c) draw (mean 1, c = var('rank_weight_concentration'),
--                  an integer: the sum of c Exp(1) draws, Exp(1) = -ln U, divided by c). Normalised within a
--                  family (or across families) this is a Dirichlet draw centred on the catalog weights, with
--                  concentration c per unit of weight: larger c, smaller perturbations.
-- U comes from analysis_uniform(): the MD5 of 'seed/draw/item/k', so every draw is reproducible.
{%- set methods = var('rank_normalisations') %}
{%- set c = var('rank_weight_concentration') | int %}

with draw_ids as (

    select cast(d as integer) as draw_id
    from range(1, {{ var('rank_draws') }} + 1) as t(d)

),

methods as (

    select * from (values
        {%- for m in methods %}
        ({{ loop.index0 }}, '{{ m }}'){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as m (method_index, normalisation)

),

draw_methods as (

    select
        d.draw_id,
        cast(floor({{ analysis_uniform("'" ~ var('rank_seed') ~ "/' || d.draw_id || '/normalisation'") }}
            * {{ methods | length }}) as integer) as method_index
    from draw_ids as d

),

items as (

    select 'indicator' as item_type, indicator_code as item_code, weight as catalog_weight
    from {{ ref('indicators') }}
    where family in ({{ sql_list(code_families()) }}) and weight > 0
    union all
    select 'family', family, 1.0
    from (values {% for f in code_families() %}('{{ f }}'){% if not loop.last %}, {% endif %}{% endfor %}) as f (family)

),

gamma_parts as (

    select
        d.draw_id,
        i.item_type,
        i.item_code,
        i.catalog_weight,
        -ln({{ analysis_uniform("'" ~ var('rank_seed') ~ "/' || d.draw_id || '/' || i.item_code || '/' || k.k") }}) as exponential
    from draw_ids as d
    cross join items as i
    cross join range(0, {{ c }}) as k (k)

),

perturbed as (

    select
        draw_id,
        item_type,
        item_code,
        any_value(catalog_weight) * sum(exponential) / {{ c }} as weight
    from gamma_parts
    group by draw_id, item_type, item_code

)

select
    p.draw_id,
    m.normalisation,
    p.item_type,
    p.item_code,
    p.weight
from perturbed as p
inner join draw_methods as dm on dm.draw_id = p.draw_id
inner join methods as m on m.method_index = dm.method_index
