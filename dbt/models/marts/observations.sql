-- Every imported observation in its latest release, with its source keys and provenance,
-- mapped to a catalog indicator where the catalog maps it.
with ranked as (

    select * from {{ ref('int_observations_ranked') }}

),

release_counts as (

    select
        source, dataset, table_code, region_key, indicator_key, period,
        count(*) as releases
    from ranked
    group by all

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
    c.releases,
    {{ build_columns() }}
from ranked as r
inner join release_counts as c using (source, dataset, table_code, region_key, indicator_key, period)
where r.release_rank = 1
