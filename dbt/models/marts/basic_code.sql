-- Basic code of neo-industrial development (formula 2 of the code-based model; doc paper_code_model in models/_papers.md):
--   NID(T) = sum over t0 <= t <= T of a(T - t) * ID(t),  a(k) = lambda^k  (var nid_lambda, default 1).
-- With lambda = 1 and no gaps this telescopes to (P+I+S)(T) - (P+I+S)(t0) (tested).
with industrial_development as (

    select region_code, year, id_code
    from {{ ref('dynamic_codes') }}
    where id_code is not null

),

accumulated as (

    select
        t.region_code,
        t.year,
        sum(pow({{ var('nid_lambda') }}, t.year - s.year) * s.id_code) as nid,
        count(*) as id_years,
        min(s.year) as first_id_year
    from industrial_development as t
    inner join industrial_development as s
        on s.region_code = t.region_code and s.year <= t.year
    group by t.region_code, t.year

)

select
    region_code,
    year,
    nid,
    cast({{ var('nid_lambda') }} as double) as nid_lambda,
    id_years,
    first_id_year,
    {{ build_columns() }}
from accumulated
