-- Defining codes per territory and year: production (P), institutional (I), social (S).
with long as (

    select * from {{ ref('int_defining_codes_long') }}

),

pivoted as (

    select
        region_code,
        year,
        max(case when family = 'production' then code end) as production_code,
        max(case when family = 'institutional' then code end) as institutional_code,
        max(case when family = 'social' then code end) as social_code,
        max(case when family = 'production' then coverage end) as production_coverage,
        max(case when family = 'institutional' then coverage end) as institutional_coverage,
        max(case when family = 'social' then coverage end) as social_coverage,
        max(case when family = 'production' then null_reason end) as production_null_reason,
        max(case when family = 'institutional' then null_reason end) as institutional_null_reason,
        max(case when family = 'social' then null_reason end) as social_null_reason,
        max(case when family = 'production' then null_reason_ru end) as production_null_reason_ru,
        max(case when family = 'institutional' then null_reason_ru end) as institutional_null_reason_ru,
        max(case when family = 'social' then null_reason_ru end) as social_null_reason_ru
    from long
    group by region_code, year

)

select
    *,
    {{ build_columns() }}
from pivoted
