-- Defining codes per territory and year: production (P), institutional (I), social (S).
with long as (

    select * from {{ ref('int_defining_codes_long') }}

),

pivoted as (

    select
        region_code,
        year,
        -- production_code, institutional_code, social_code, then the coverages, the reasons and the Russian reasons
        {%- for measure in ['code', 'coverage', 'null_reason', 'null_reason_ru'] %}
        {{ pivot_max('family', measure, code_families()) }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from long
    group by region_code, year

)

select
    *,
    {{ build_columns() }}
from pivoted
