-- Values that changed between consecutive releases of the same published cell.
with ranked as (

    select * from {{ ref('int_observations_ranked') }}

),

paired as (

    select
        newer.source,
        newer.dataset,
        newer.table_code,
        newer.region_key,
        newer.region_code,
        newer.indicator_key,
        newer.indicator_code,
        newer.period,
        older.value as old_value,
        newer.value as new_value,
        older.flag as old_flag,
        newer.flag as new_flag,
        older.release as old_release,
        newer.release as new_release,
        older.release_date as old_release_date,
        newer.release_date as new_release_date
    from ranked as newer
    inner join ranked as older
        on older.source = newer.source
        and older.dataset = newer.dataset
        and older.table_code is not distinct from newer.table_code
        and older.region_key = newer.region_key
        and older.indicator_key = newer.indicator_key
        and older.period = newer.period
        and older.release_rank = newer.release_rank + 1

)

select
    *,
    new_value - old_value as change,
    case when old_value <> 0 then (new_value - old_value) / abs(old_value) end as relative_change,
    {{ build_columns() }}
from paired
where old_value is distinct from new_value or old_flag is distinct from new_flag
