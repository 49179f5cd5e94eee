-- Standardised profiles for marts.peers, one row per comparison region and feature:
--   code profile  the defining codes P, I, S (weight var('peers_code_weight') each);
--   structure     the normalised catalog indicators behind them (together weight var('peers_structure_weight') per
--                 family, shared equally by the family's catalog indicators), i.e. what the codes are made of.
-- Each feature is averaged over the var('peers_window_years') years up to the reference year (var
-- ('peers_reference_year'), default the latest year with codes in the region's universe), then standardised
-- within the universe (z = (x - mean) / population sd over the universe's regions), so that profiles of regions
-- of different countries compare (foreign analogues). A feature is left out (null z) where fewer than
-- var('peers_min_regions') regions of the universe have it or it does not vary.
with codes as (

    select region_code, universe, year, family, code
    from {{ ref('int_defining_codes_long') }}
    where code is not null

),

indicators as (

    select region_code, universe, period as year, family, indicator_code, normalised_value
    from {{ ref('int_indicator_values_normalised') }}
    where normalised_value is not null and weight > 0

),

family_sizes as (

    select family, count(*) as family_indicators
    from {{ ref('indicators') }}
    where family in ({{ sql_list(code_families()) }}) and weight > 0
    group by family

),

reference_years as (

    select universe, {{ configured_or_latest_year('peers_reference_year') }} as reference_year
    from codes
    group by universe

),

features as (

    select region_code, universe, year, family || '_code' as feature, 'code' as feature_type, family,
        cast({{ var('peers_code_weight') }} as double) as weight, code as value
    from codes
    union all
    select i.region_code, i.universe, i.year, i.indicator_code as feature, 'indicator' as feature_type, i.family,
        {{ var('peers_structure_weight') }} / f.family_indicators as weight, i.normalised_value as value
    from indicators as i
    inner join family_sizes as f on f.family = i.family

),

windowed as (

    select
        f.region_code,
        f.universe,
        r.reference_year,
        f.feature,
        any_value(f.feature_type) as feature_type,
        any_value(f.family) as family,
        any_value(f.weight) as weight,
        avg(f.value) as value,
        count(*) as years_averaged
    from features as f
    inner join reference_years as r on r.universe = f.universe
    where f.year between r.reference_year - {{ var('peers_window_years') }} + 1 and r.reference_year
    group by f.region_code, f.universe, r.reference_year, f.feature

),

standardised as (

    select
        *,
        count(*) over by_feature as universe_regions,
        avg(value) over by_feature as universe_mean,
        stddev_pop(value) over by_feature as universe_sd
    from windowed
    window by_feature as (partition by universe, feature)

),

register as (

    select region_code, country from {{ ref('regions') }}

)

select
    s.region_code,
    g.country,
    s.universe,
    s.reference_year,
    s.reference_year - {{ var('peers_window_years') }} + 1 as window_start,
    s.feature,
    s.feature_type,
    s.family,
    s.weight,
    s.value,
    s.years_averaged,
    s.universe_regions,
    s.universe_mean,
    s.universe_sd,
    case
        when s.universe_regions >= {{ var('peers_min_regions') }} and s.universe_sd > 0
            then (s.value - s.universe_mean) / s.universe_sd
    end as z
from standardised as s
inner join register as g on g.region_code = s.region_code
