-- Published as marts.indicators: the alias gives the table the seed's name, which the model cannot have (dbt
-- names are unique across seeds and models).
{{ config(alias="indicators") }}
-- The indicator catalog (reference): family, direction, weight, transform, comparability rule, the weights a
-- comparison universe sets instead of the catalog's (seed universe_indicator_weights), and the published tables that
-- feed each indicator in this build (fed_by: source, dataset, the table as titled, its release and years; only
-- the observations that are the latest release of their series, so a superseded edition is not named).
with feeding as (

    select
        indicator_code,
        source,
        dataset,
        regexp_replace(indicator_key, ' \| .*$', '') as fed_table,
        coalesce(release, 'release unknown') as release,
        min(period) as first_year,
        max(period) as last_year
    from {{ ref('int_observations_ranked') }}
    where release_rank = 1
      and indicator_code is not null
      and region_code is not null
      and {{ active_source_filter('source') }}
    group by all

),

fed_by as (

    select
        indicator_code,
        string_agg(
            source || ' ' || dataset || ': ' || fed_table || ' (release ' || release || ', '
                || cast(first_year as varchar) || '–' || cast(last_year as varchar) || ')',
            '; ' order by first_year, source, dataset, fed_table, release
        ) as fed_by
    from feeding
    group by indicator_code

),

derived as (

    -- an indicator computed from two others (seed derived_indicators) where no table prints it
    select d.indicator_code, 'derived: ' || d.numerator_code || ' / ' || d.denominator_code || ' x '
        || cast(cast(d.factor as double) as varchar) || ' (' || n.fed_by || '; ' || q.fed_by || ')' as fed_by
    from {{ ref('derived_indicators') }} as d
    inner join fed_by as n on n.indicator_code = d.numerator_code
    inner join fed_by as q on q.indicator_code = d.denominator_code

),

overrides as (

    select
        indicator_code,
        string_agg(universe || ': ' || cast(weight as varchar), '; ' order by universe) as universe_weights,
        string_agg(universe || ': ' || reason_en, '; ' order by universe) as universe_weights_reason_en,
        string_agg(universe || ': ' || reason_ru, '; ' order by universe) as universe_weights_reason_ru
    from {{ ref('universe_indicator_weights') }}
    group by indicator_code

)

select
    c.indicator_code,
    c.name_ru,
    c.name_en,
    c.unit,
    c.family,
    c.direction,
    c.weight,
    c.transform,
    c.comparability,
    c.note,
    o.universe_weights,
    o.universe_weights_reason_en,
    o.universe_weights_reason_ru,
    coalesce(f.fed_by, dv.fed_by) as fed_by,
    {{ build_columns() }}
from {{ ref('indicators') }} as c
left join overrides as o on o.indicator_code = c.indicator_code
left join fed_by as f on f.indicator_code = c.indicator_code
left join derived as dv on dv.indicator_code = c.indicator_code
