-- Published as marts.regions: the alias gives the table the seed's name, which the model cannot have (dbt
-- names are unique across seeds and models).
{{ config(alias="regions") }}
-- The region register (reference): territories, their names, hierarchy and validity.
select
    region_code,
    okato,
    name_ru,
    name_en,
    country,
    level,
    nullif(parent_code, '') as parent_code,
    nullif(within_code, '') as within_code,
    nullif(universe, '') as universe,
    capital_region,
    valid_from,
    valid_to,
    aliases,
    {{ build_columns() }}
from {{ ref('regions') }}
