-- Published as marts.indicators: the alias gives the table the seed's name, which the model cannot have (dbt
-- names are unique across seeds and models).
{{ config(alias="indicators") }}
-- The indicator catalog (reference): family, direction, weight, transform, comparability rule, and
-- the weights a comparison universe sets instead of the catalog's (seed universe_indicator_weights).
with overrides as (

    select
        indicator_code,
        string_agg(universe || ': ' || cast(weight as varchar), '; ' order by universe) as universe_weights,
        string_agg(universe || ': ' || reason_en, '; ' order by universe) as universe_weights_reason_en,
        string_agg(universe || ': ' || reason_ru, '; ' order by universe) as universe_weights_reason_ru
    from {{ ref('universe_indicator_weights') }}
    group by indicator_code

)

select
    c.indicator_code,
    c.name_ru,
    c.name_en,
    c.unit,
    c.family,
    c.direction,
    c.weight,
    c.transform,
    c.comparability,
    c.note,
    o.universe_weights,
    o.universe_weights_reason_en,
    o.universe_weights_reason_ru,
    {{ build_columns() }}
from {{ ref('indicators') }} as c
left join overrides as o on o.indicator_code = c.indicator_code
