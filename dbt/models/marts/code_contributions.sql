-- What drove each code: the contribution of each indicator to its family's defining code
-- (weight share among the indicators present x normalised value; contributions sum to the code),
-- with the weights of the region's universe (an indicator of weight 0 there contributes nothing),
-- and to its change since the previous year with data (divided by the gap, like dynamic codes).
with normalised as (

    select * from {{ ref('int_indicator_values_normalised') }}
    where normalised_value is not null and weight > 0

),

codes as (

    select region_code, year, family, code
    from {{ ref('int_defining_codes_long') }}
    where code is not null

),

shares as (

    select
        n.region_code,
        n.period as year,
        n.family,
        n.indicator_code,
        n.value,
        n.comparable_value,
        n.normalised_value,
        n.weight,
        n.weight / sum(n.weight) over (partition by n.region_code, n.period, n.family) as weight_share
    from normalised as n
    inner join codes as c
        on c.region_code = n.region_code and c.year = n.period and c.family = n.family

),

contributions as (

    select
        *,
        weight_share * normalised_value as contribution
    from shares

),

changes as (

    select
        *,
        (contribution - lag(contribution) over by_indicator)
        / (year - lag(year) over by_indicator) as contribution_change
    from contributions
    window by_indicator as (partition by region_code, indicator_code order by year)

)

select
    region_code,
    year,
    family,
    indicator_code,
    value,
    comparable_value,
    normalised_value,
    weight,
    weight_share,
    contribution,
    contribution_change,
    {{ build_columns() }}
from changes
