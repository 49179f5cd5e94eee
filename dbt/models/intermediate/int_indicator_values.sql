-- One value per territory, catalog indicator and year: the latest release of the active sources.
-- A confidential or missing cell in the latest release supersedes an earlier number (it is not
-- silently replaced by an older figure); such cells carry a null value and their flag.
with observations as (

    select * from {{ ref('int_observations_ranked') }}
    where region_code is not null
      and indicator_code is not null
      and {{ active_source_filter('source') }}

),

latest as (

    select
        region_code,
        indicator_code,
        period,
        value,
        flag,
        source,
        release
    from observations
    qualify row_number() over (
        partition by region_code, indicator_code, period
        order by release_date desc nulls last, retrieved_at desc nulls last, source
    ) = 1

)

select * from latest
