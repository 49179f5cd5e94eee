-- Every comparison region that has any catalog value in a year has a strategy row for that year, with a
-- decision and reasons in both languages. Returns the region-years without one.
with expected as (

    select distinct v.region_code, v.period as year
    from {{ ref('int_indicator_values_comparable') }} as v
    where {{ is_comparison_region('v.universe', 'v.level') }}

)

select e.region_code, e.year, s.decision, s.reasons_en, s.reasons_ru
from expected as e
left join {{ ref('strategy') }} as s on s.region_code = e.region_code and s.year = e.year
where s.region_code is null or s.decision is null or s.reasons_en is null or s.reasons_ru is null
