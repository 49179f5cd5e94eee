{{ config(alias="indicators") }}
-- The indicator catalog (reference): family, direction, weight, transform, comparability rule.
select
    indicator_code,
    name_ru,
    name_en,
    unit,
    family,
    direction,
    weight,
    transform,
    comparability,
    note,
    {{ build_columns() }}
from {{ ref('indicators') }}
