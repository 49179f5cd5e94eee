-- One row describing the refresh that built this warehouse.
with observations as (

    select * from {{ ref('int_indicator_values') }}

)

select
    cast('{{ var("build_id") }}' as varchar) as build_id,
    cast('{{ var("data_label") }}' as varchar) as data_label,
    current_timestamp as built_at,
    string_agg(distinct source, ', ' order by source) as sources,
    string_agg(distinct release, ', ' order by release) as releases,
    count(*) as indicator_values,
    count(distinct region_code) as regions,
    min(period) as first_year,
    max(period) as last_year
from observations
