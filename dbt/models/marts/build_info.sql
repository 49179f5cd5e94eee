-- One row describing the refresh that built this warehouse.
with observations as (

    select * from {{ ref('int_indicator_values') }}

)

select
    {{ build_columns() }},
    current_timestamp as built_at,
    string_agg(distinct source, ', ' order by source) as sources,
    string_agg(distinct release, ', ' order by release) as releases,
    count(*) as indicator_values,
    count(distinct region_code) as regions,
    min(period) as first_year,
    max(period) as last_year
from observations
