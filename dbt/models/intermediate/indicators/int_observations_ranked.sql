-- A table, not a view like most intermediate models: int_indicator_values, marts.observations and
-- marts.revisions all read it, and as a view each of them would rank the release history of every raw row again.
{{ config(materialized='table') }}
-- Every observation with its place in the release history of the same published cell:
-- release_rank 1 is the latest release (it supersedes the others, which are kept); releases counts them.
with observations as (

    select * from {{ ref('stg_raw__observations') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by source, dataset, table_code, region_key, indicator_key, period
            order by release_date desc nulls last, retrieved_at desc nulls last, release desc
        ) as release_rank,
        count(*) over (partition by source, dataset, table_code, region_key, indicator_key, period) as releases
    from observations

)

select * from ranked
