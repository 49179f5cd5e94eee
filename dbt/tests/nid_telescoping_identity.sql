-- With lambda = 1 and no gaps, NID(T) = (P+I+S)(T) - (P+I+S)(t0): the sum of year-on-year changes
-- telescopes. Checked for every territory over its gap-free run of years with all three codes.
-- Returns the offending rows (none when the identity holds).
{{ config(enabled=(var('nid_lambda') | float == 1.0)) }}

with codes as (

    select region_code, year, production_code + institutional_code + social_code as code_sum
    from {{ ref('defining_codes') }}
    where production_code is not null and institutional_code is not null and social_code is not null

),

runs as (

    -- consecutive years share the same (year - row_number) run id
    select *, year - row_number() over (partition by region_code order by year) as run_id
    from codes

),

first_run as (

    select r.*
    from runs as r
    where r.run_id = (select min(run_id) from runs as x where x.region_code = r.region_code)

),

run_start as (

    select region_code, min(year) as t0, arg_min(code_sum, year) as code_sum_t0
    from first_run
    group by region_code

),

checked as (

    select
        f.region_code,
        f.year,
        b.nid,
        f.code_sum - s.code_sum_t0 as telescoped,
        abs(b.nid - (f.code_sum - s.code_sum_t0)) as difference
    from first_run as f
    inner join run_start as s on s.region_code = f.region_code
    inner join {{ ref('basic_code') }} as b on b.region_code = f.region_code and b.year = f.year
    where f.year > s.t0
      and b.first_id_year = s.t0 + 1
      and b.id_years = f.year - s.t0

)

select * from checked where difference > 1e-9
