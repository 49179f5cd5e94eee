-- Rejected cells and rows, as the importers recorded them.
with source as (

    select * from {{ source('raw', 'rejects') }}

)

select
    source,
    dataset,
    table_code,
    origin,
    cell_ref,
    raw_value,
    reason,
    release,
    cast(retrieved_at as timestamp) as retrieved_at
from source
