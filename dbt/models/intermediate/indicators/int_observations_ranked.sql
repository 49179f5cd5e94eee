-- A table, not a view like most intermediate models: int_indicator_values, marts.observations, marts.revisions and
-- marts.indicators all read it, and as a view each of them would rank the release history of every raw row again.
{{ config(materialized='table') }}
-- Every observation with its series, its value in the catalog unit, and its place in the series' release history.
--   * series_key: a mapped observation (catalog indicator and register code both resolved) belongs to the series
--     of its catalog indicator and territory, across the tables, datasets and editions of its source: a table
--     renumbered between editions (Rosstat's GRP: 9.1. in 2019, 8.1. in 2023), a thematic table or an export of
--     the same indicator continue one series. An unmapped observation stays the series of its published cell
--     (dataset, table, territory as spelled, indicator as named).
--   * catalog_value: the value in the catalog unit (the source mapping's scale for the observation's dataset;
--     unit_conversions for rows a source prints in another unit than its table); null when unmapped.
--   * release_rank 1 is the latest release of the series and year: the later release date wins whatever order the
--     files were loaded in; a release of unknown date sorts before every dated one (among those, the later
--     retrieval); the earlier releases are kept with higher ranks, and releases counts them.
with observations as (

    select * from {{ ref('stg_raw__observations') }}

),

scales as (

    {% for mapping in var('source_mappings') %}
    {% if not loop.first %}union{% endif %}
    select distinct
        '{{ mapping.source }}' as source,
        indicator_code,
        trim(unnest(string_split(cast({{ mapping.table_column }} as varchar), '|'))) as source_table,
        cast(scale as double) as scale,
        {{ 'true' if mapping.per_dataset else 'false' }} as per_dataset
    from {{ ref(mapping.seed) }}
    where nullif(trim(cast({{ mapping.table_column }} as varchar)), '') is not null
    {% else %}
    select null::varchar as source, null::varchar as indicator_code, null::varchar as source_table,
        null::double as scale, false as per_dataset
    where false
    {% endfor %}

),

conversions as (

    select source, indicator_code, unit_as_published, cast(factor as double) as factor
    from {{ ref('unit_conversions') }}

),

valued as (

    select
        o.*,
        case when o.indicator_code is not null
            then o.value * coalesce(c.factor, 1.0) * coalesce(s.scale, 1.0) end as catalog_value,
        case
            when o.indicator_code is not null and o.region_code is not null
                then 'indicator|' || o.indicator_code || '|' || o.region_code
            else 'cell|' || coalesce(o.dataset, '') || '|' || coalesce(o.table_code, '') || '|'
                || coalesce(o.region_key, '') || '|' || coalesce(o.indicator_key, '')
        end as series_key
    from observations as o
    left join conversions as c
        on c.source = o.source and c.indicator_code = o.indicator_code
        and lower(trim(c.unit_as_published)) = lower(trim(o.unit))
    left join scales as s
        on s.source = o.source and s.indicator_code = o.indicator_code
        and (not s.per_dataset or s.source_table = o.dataset)

),

ranked as (

    select
        *,
        row_number() over (
            partition by source, series_key, period
            order by release_date desc nulls last, release desc nulls last, retrieved_at desc nulls last,
                dataset, table_code, cell_ref
        ) as release_rank,
        count(*) over (partition by source, series_key, period) as releases
    from valued

)

select * from ranked
