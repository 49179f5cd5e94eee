-- Every imported observation in its latest release, with its source keys and provenance,
-- mapped to a catalog indicator where the catalog maps it.
with ranked as (

    select * from {{ ref('int_observations_ranked') }}
    where release_rank = 1

)

select
    r.source,
    r.dataset,
    r.table_code,
    r.region_key,
    r.region_code,
    r.indicator_key,
    r.indicator_code,
    r.period,
    r.value,
    r.flag,
    r.unit,
    r.release,
    r.release_date,
    r.retrieved_at,
    r.origin,
    r.cell_ref,
    r.releases,
    {{ build_columns() }}
from ranked as r
