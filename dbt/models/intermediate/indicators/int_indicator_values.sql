-- A table, not a view like most intermediate models: int_indicator_values_comparable and marts.build_info both
-- read it, and as a view build_info alone repeated the whole mapping, scaling and derivation (8.6 s on the
-- 3-million-observation benchmark of benchmarks/README.md).
{{ config(materialized='table') }}
-- One value per territory, catalog indicator and year: the latest release of the active sources,
-- in the catalog unit, with derived indicators filled in where a source publishes only their parts.
--   * int_observations_ranked gives each mapped observation its value in the catalog unit (the source
--     mapping's scale, unit_conversions for rows printed in another unit; values stay as published in raw)
--     and the latest release of its series within its source (across tables and editions);
--   * across sources, the latest release date wins;
--   * derived_indicators: e.g. R&D share of GRP = R&D expenditure / GRP x 100, budget per capita =
--     budget / population; a value published directly wins over a derived one.
-- A confidential or missing cell in the latest release supersedes an earlier number (it is not
-- silently replaced by an older figure); such cells carry a null value and their flag.
with scaled as (

    select
        region_code,
        indicator_code,
        period,
        catalog_value as value,
        flag,
        source,
        release,
        release_date,
        retrieved_at
    from {{ ref('int_observations_ranked') }}
    where release_rank = 1
      and region_code is not null
      and indicator_code is not null
      and {{ active_source_filter('source') }}

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
