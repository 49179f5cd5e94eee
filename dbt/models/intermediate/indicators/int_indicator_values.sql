-- A table, not a view like most intermediate models: int_indicator_values_comparable and marts.build_info both
-- read it, and as a view build_info alone repeated the whole mapping, scaling and derivation (8.6 s on the
-- 3-million-observation benchmark of benchmarks/README.md).
{{ config(materialized='table') }}
-- One value per territory, catalog indicator and year: the latest release of the active sources,
-- in the catalog unit, with derived indicators filled in where a source publishes only their parts.
--   * scale: a source mapping's factor from the published unit to the catalog unit
--     (indicator_sources_rosstat / indicator_sources_eurostat; values stay as published in raw);
--   * unit_conversions: rows a source prints in another unit than the rest of its table (Rosstat's
--     federation row of the budget tables in billion rub) are mapped and converted;
--   * derived_indicators: e.g. R&D share of GRP = R&D expenditure / GRP x 100, budget per capita =
--     budget / population; a value published directly wins over a derived one.
-- A confidential or missing cell in the latest release supersedes an earlier number (it is not
-- silently replaced by an older figure); such cells carry a null value and their flag.
with observations as (

    select * from {{ ref('int_observations_ranked') }}
    where region_code is not null
      and {{ active_source_filter('source') }}

),

scales as (

    select 'rosstat' as source, indicator_code, table_code as source_table, cast(scale as double) as scale
    from {{ ref('indicator_sources_rosstat') }}
    where nullif(trim(cast(table_code as varchar)), '') is not null
    union all
    select 'eurostat' as source, indicator_code, dataset as source_table, cast(scale as double) as scale
    from {{ ref('indicator_sources_eurostat') }}
    where nullif(trim(dataset), '') is not null

),

conversions as (

    select source, table_code, unit_as_published, cast(factor as double) as factor
    from {{ ref('unit_conversions') }}

),

mapped as (

    select
        o.region_code,
        coalesce(o.indicator_code, s_table.indicator_code) as indicator_code,
        o.period,
        o.value * coalesce(c.factor, 1.0) as value,
        o.flag,
        o.source,
        o.dataset,
        o.release,
        o.release_date,
        o.retrieved_at
    from observations as o
    left join conversions as c
        on c.source = o.source and c.table_code = o.table_code and c.unit_as_published = o.unit
    left join scales as s_table
        on o.indicator_code is null and c.factor is not null
        and s_table.source = o.source and s_table.source_table = o.table_code

),

scaled as (

    select
        m.region_code,
        m.indicator_code,
        m.period,
        m.value * coalesce(s.scale, 1.0) as value,
        m.flag,
        m.source,
        m.release,
        m.release_date,
        m.retrieved_at
    from mapped as m
    left join scales as s
        on s.source = m.source and s.indicator_code = m.indicator_code
        and (m.source <> 'eurostat' or s.source_table = m.dataset)
    where m.indicator_code is not null

),

latest as (

    select region_code, indicator_code, period, value, flag, source, release
    from scaled
    qualify row_number() over (
        partition by region_code, indicator_code, period
        order by release_date desc nulls last, retrieved_at desc nulls last, source
    ) = 1

),

derivations as (

    select indicator_code, numerator_code, denominator_code, cast(factor as double) as factor
    from {{ ref('derived_indicators') }}

),

derived as (

    select
        n.region_code,
        d.indicator_code,
        n.period,
        d.factor * n.value / nullif(q.value, 0) as value,
        case when n.value is null then n.flag when q.value is null then q.flag end as flag,
        n.source,
        n.release
    from derivations as d
    inner join latest as n on n.indicator_code = d.numerator_code
    inner join latest as q
        on q.indicator_code = d.denominator_code and q.region_code = n.region_code and q.period = n.period
    where not exists (
        select 1 from latest as direct
        where direct.indicator_code = d.indicator_code
          and direct.region_code = n.region_code and direct.period = n.period
    )

)

select * from latest
union all
select * from derived
