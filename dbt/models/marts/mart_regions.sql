-- Published as marts.regions: the alias gives the table the seed's name, which the model cannot have (dbt
-- names are unique across seeds and models).
{{ config(alias="regions") }}
-- The region register (reference): territories, their names, hierarchy and validity, with the comparison universe
-- of this build (int_region_universes) and the papers' comparison regions (seed paper_regions).
select
    r.region_code,
    r.okato,
    r.name_ru,
    r.name_en,
    r.country,
    r.level,
    nullif(r.parent_code, '') as parent_code,
    nullif(r.within_code, '') as within_code,
    u.universe,
    u.register_universe,
    u.country_regions,
    u.measured,
    p.region_code is not null as paper_region,
    r.capital_region,
    r.valid_from,
    r.valid_to,
    r.aliases,
    {{ build_columns() }}
from {{ ref('regions') }} as r
left join {{ ref('int_region_universes') }} as u on u.region_code = r.region_code
left join {{ ref('paper_regions') }} as p on p.region_code = r.region_code
