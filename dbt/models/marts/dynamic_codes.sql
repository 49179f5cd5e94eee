-- Dynamic codes: the rate of change of each defining code (formula 1 of the code-based model; doc paper_code_model in models/_papers.md).
--   innovation = P'(t), information = I'(t), value-and-competence = S'(t), ID = their sum.
-- Year-on-year difference; across a gap of k years (code missing in between) divided by k.
with codes as (

    select region_code, year, family, code
    from {{ ref('int_defining_codes_long') }}
    where code is not null

),

changes as (

    select
        region_code,
        year,
        family,
        code,
        lag(code) over by_family as previous_code,
        lag(year) over by_family as previous_year
    from codes
    window by_family as (partition by region_code, family order by year)

),

rates as (

    select
        region_code,
        year,
        family,
        (code - previous_code) / (year - previous_year) as rate,
        year - previous_year as gap_years
    from changes
    where previous_code is not null

),

pivoted as (

    select
        region_code,
        year,
        -- innovation_code, information_code, value_competence_code: the rate of P, I and S
        {{ pivot_max('family', 'rate', code_families(), code_families().values() | list) }},
        max(gap_years) as max_gap_years
    from rates
    group by region_code, year

)

select
    region_code,
    year,
    innovation_code,
    information_code,
    value_competence_code,
    innovation_code + information_code + value_competence_code as id_code,
    max_gap_years,
    {{ build_columns() }}
from pivoted
