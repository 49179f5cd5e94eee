-- A table, not a view like most intermediate models: eight models read it (defining_codes, dynamic_codes,
-- code_contributions, strategy, rank_intervals, the weak codes, the peer profiles, the rank normalisations), and as
-- a view each of them would recompute every code and its coverage from the normalised values again.
{{ config(materialized='table') }}
-- Defining codes, one row per territory, year and family: the weighted mean of the family's
-- normalised indicators, computed only when at least var('coverage_threshold') (2/3) of the
-- family's weight is present; otherwise null, with the reason (never a silent zero).
-- The family's weight is summed per comparison universe from the basket of the universe's pool: the catalog weight
-- of each indicator unless seed universe_indicator_weights overrides it in the pool (EU: 0 for the indicators
-- Eurostat publishes no NUTS 2 series of). Every region of one pool, whichever universe it is normalised over (its
-- country or the pool), is measured on the same basket.
{#- Why a code is null, one sentence template worded per language (column, decimal mark, no weight in the universe,
    the four pieces of 'insufficient coverage: 2 of 3 indicators, 0.5 of the family weight (needs 0.667)'). -#}
{%- set null_reasons = [
    ('null_reason', '.', 'no indicator of the family has weight in universe ',
     ['insufficient coverage: ', ' of ', ' indicators, ', ' of the family weight (needs ']),
    ('null_reason_ru', ',', 'ни один показатель семейства не имеет веса в совокупности ',
     ['недостаточное покрытие: ', ' из ', ' показателей, ', ' веса семейства (требуется ']),
] %}

with normalised as (

    select * from {{ ref('int_indicator_values_normalised') }}
    where normalised_value is not null

),

region_years as (

    select distinct region_code, universe, register_universe, period as year
    from normalised

),

universes as (

    select distinct universe, register_universe from region_years

),

universe_catalog as (

    select
        u.universe,
        u.register_universe,
        c.family,
        c.indicator_code,
        coalesce(uw.weight, c.weight) as weight
    from {{ ref('indicators') }} as c
    cross join universes as u
    left join {{ ref('universe_indicator_weights') }} as uw
        on uw.universe = u.register_universe and uw.indicator_code = c.indicator_code
    where c.family in ({{ sql_list(code_families()) }})

),

family_weights as (

    select
        universe,
        register_universe,
        family,
        coalesce(sum(weight) filter (where weight > 0), 0) as family_weight,
        count(*) filter (where weight > 0) as family_indicators
    from universe_catalog
    group by universe, register_universe, family

),

spine as (

    select ry.region_code, ry.universe, ry.register_universe, ry.year, fw.family, fw.family_weight, fw.family_indicators
    from region_years as ry
    inner join family_weights as fw
        on fw.universe = ry.universe and fw.register_universe = ry.register_universe

),

present as (

    select
        region_code,
        period as year,
        family,
        sum(weight) as present_weight,
        sum(weight * normalised_value) as weighted_sum,
        count(*) as present_indicators
    from normalised
    where weight > 0
    group by region_code, period, family

),

coverage as (

    select
        s.region_code,
        s.universe,
        s.register_universe,
        s.year,
        s.family,
        s.family_weight,
        s.family_indicators,
        coalesce(p.present_weight, 0) as present_weight,
        coalesce(p.present_indicators, 0) as present_indicators,
        coalesce(p.present_weight, 0) / nullif(s.family_weight, 0) as coverage,
        p.weighted_sum
    from spine as s
    left join present as p
        on p.region_code = s.region_code and p.year = s.year and p.family = s.family

),

codes as (

    select
        region_code,
        universe,
        year,
        family,
        coverage,
        present_indicators,
        family_indicators,
        case
            when coverage >= {{ var('coverage_threshold') }} - 1e-9 then weighted_sum / present_weight
        end as code
        {%- for column, decimal_mark, no_weight, words in null_reasons %},
        case
            when family_weight = 0 then '{{ no_weight }}' || register_universe
            when coverage < {{ var('coverage_threshold') }} - 1e-9 then
                '{{ words[0] }}' || present_indicators || '{{ words[1] }}' || family_indicators
                || '{{ words[2] }}' || {{ with_decimal_mark('cast(round(coverage, 3) as varchar)', decimal_mark) }}
                || '{{ words[3] }}'
                || {{ with_decimal_mark('cast(round(' ~ var('coverage_threshold') ~ ', 3) as varchar)', decimal_mark) }}
                || ')'
        end as {{ column }}
        {%- endfor %}
    from coverage

)

select * from codes
