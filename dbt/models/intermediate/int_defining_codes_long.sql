-- Defining codes, one row per territory, year and family: the weighted mean of the family's
-- normalised indicators, computed only when at least var('coverage_threshold') (2/3) of the
-- family's catalog weight is present; otherwise null, with the reason (never a silent zero).
with normalised as (

    select * from {{ ref('int_indicator_values_normalised') }}
    where normalised_value is not null

),

family_weights as (

    select
        family,
        sum(weight) as family_weight,
        count(*) as family_indicators
    from {{ ref('indicators') }}
    where family in ('production', 'institutional', 'social') and weight > 0
    group by family

),

region_years as (

    select distinct region_code, universe, period as year
    from normalised

),

spine as (

    select ry.region_code, ry.universe, ry.year, fw.family, fw.family_weight, fw.family_indicators
    from region_years as ry
    cross join family_weights as fw

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
        s.year,
        s.family,
        s.family_weight,
        s.family_indicators,
        coalesce(p.present_weight, 0) as present_weight,
        coalesce(p.present_indicators, 0) as present_indicators,
        coalesce(p.present_weight, 0) / s.family_weight as coverage,
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
        end as code,
        case
            when coverage < {{ var('coverage_threshold') }} - 1e-9 then
                'insufficient coverage: ' || present_indicators || ' of ' || family_indicators
                || ' indicators, ' || cast(round(coverage, 3) as varchar) || ' of the family weight (needs '
                || cast(round({{ var('coverage_threshold') }}, 3) as varchar) || ')'
        end as null_reason,
        case
            when coverage < {{ var('coverage_threshold') }} - 1e-9 then
                'недостаточное покрытие: ' || present_indicators || ' из ' || family_indicators
                || ' показателей, ' || replace(cast(round(coverage, 3) as varchar), '.', ',')
                || ' веса семейства (требуется ' || replace(cast(round({{ var('coverage_threshold') }}, 3) as varchar), '.', ',')
                || ')'
        end as null_reason_ru
    from coverage

)

select * from codes
