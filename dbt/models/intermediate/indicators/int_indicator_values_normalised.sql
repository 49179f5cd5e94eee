-- A table, not a view like most intermediate models: the defining codes, marts.code_contributions, the peer
-- profiles and the rank normalisations read it, and as a view each of them would recompute the winsorisation
-- quantiles and min-max bounds over the whole universe again.
{{ config(materialized='table') }}
-- Normalised indicator values, as the EU Regional Innovation Scoreboard does it:
-- optional log/sqrt transform, winsorised at the universe's quantiles, then min-max to [0, 1]
-- over all regions and all years of the comparison universe (so a change over time is a real
-- change, not a re-ranking), flipped where lower is better (direction = -1).
-- The universe is the region's comparison universe in this build (int_region_universes: its country, or its pool
-- when the country has too few regions with data). weight is the indicator's weight in the region's pool
-- (int_indicator_values_comparable: the catalog weight unless seed universe_indicator_weights overrides it there);
-- an indicator of weight 0 is still normalised but enters none of the codes.
with comparable as (

    select * from {{ ref('int_indicator_values_comparable') }}
    where {{ is_comparison_region() }}
      and family in ({{ sql_list(code_families()) }})
      and comparable_value is not null

),

transformed as (

    select
        *,
        case transform
            when 'log' then case when comparable_value > 0 then ln(comparable_value) end
            when 'sqrt' then case when comparable_value >= 0 then sqrt(comparable_value) end
            else comparable_value
        end as transformed_value
    from comparable

),

bounds as (

    select
        universe,
        indicator_code,
        quantile_cont(transformed_value, {{ var('winsor_lower') }}) as lower_bound,
        quantile_cont(transformed_value, {{ var('winsor_upper') }}) as upper_bound
    from transformed
    where transformed_value is not null
    group by universe, indicator_code

),

winsorised as (

    select
        t.*,
        b.lower_bound,
        b.upper_bound,
        greatest(b.lower_bound, least(b.upper_bound, t.transformed_value)) as winsorised_value
    from transformed as t
    inner join bounds as b on b.universe = t.universe and b.indicator_code = t.indicator_code
    where t.transformed_value is not null

),

scaled as (

    select
        *,
        min(winsorised_value) over (partition by universe, indicator_code) as universe_min,
        max(winsorised_value) over (partition by universe, indicator_code) as universe_max
    from winsorised

),

normalised as (

    select
        region_code,
        universe,
        register_universe,
        indicator_code,
        family,
        direction,
        weight,
        period,
        value,
        comparable_value,
        transformed_value,
        winsorised_value,
        universe_min,
        universe_max,
        case
            when universe_max > universe_min and direction = -1
                then (universe_max - winsorised_value) / (universe_max - universe_min)
            when universe_max > universe_min
                then (winsorised_value - universe_min) / (universe_max - universe_min)
        end as normalised_value
    from scaled

)

select * from normalised
