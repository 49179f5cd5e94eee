-- Values that changed between consecutive releases of the same series (int_observations_ranked: a catalog
-- indicator's series spans tables, datasets and editions of its source; any other series is one published cell).
-- Values are compared in the catalog unit where the series is a catalog indicator (its releases may print it in
-- different units), as published otherwise, at the precision of the coarser of the two as printed: 4312.6
-- thousand and 4 312 661 persons differ, 1 194.6 and 1 194.60 do not.
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
        coalesce(older.catalog_value, older.value) as old_value,
        coalesce(newer.catalog_value, newer.value) as new_value,
        older.flag as old_flag,
        newer.flag as new_flag,
        older.release as old_release,
        newer.release as new_release,
        older.release_date as old_release_date,
        newer.release_date as new_release_date,
        older.dataset as old_dataset,
        older.table_code as old_table_code,
        older.cell_ref as old_cell_ref,
        newer.cell_ref as new_cell_ref
    from ranked as newer
    inner join ranked as older
        on older.source = newer.source
        and older.series_key = newer.series_key
        and older.period = newer.period
        and older.release_rank = newer.release_rank + 1

),

compared as (

    select
        *,
        0.5 * pow(10, -least({{ printed_decimals('old_value') }}, {{ printed_decimals('new_value') }})) as tolerance
    from paired

)

select
    source, dataset, table_code, region_key, region_code, indicator_key, indicator_code, period,
    old_value, new_value, old_flag, new_flag, old_release, new_release, old_release_date, new_release_date,
    old_dataset, old_table_code, old_cell_ref, new_cell_ref,
    new_value - old_value as change,
    case when old_value <> 0 then (new_value - old_value) / abs(old_value) end as relative_change,
    {{ build_columns() }}
from compared
where old_flag is distinct from new_flag
    or (old_value is null) <> (new_value is null)
    or abs(new_value - old_value) > tolerance
