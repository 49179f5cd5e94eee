-- Typed and trimmed raw observations; one row per published cell and release.
with source as (

    select * from {{ source('raw', 'observations') }}

),

typed as (

    select
        source,
        dataset,
        table_code,
        trim(regexp_replace(region_key, '\s+', ' ', 'g')) as region_key,
        nullif(trim(region_code), '') as region_code,
        indicator_key,
        nullif(trim(indicator_code), '') as indicator_code,
        cast(period as integer) as period,
        cast(value as double) as value,
        nullif(lower(trim(flag)), '') as flag,
        unit,
        release,
        cast(release_date as date) as release_date,
        cast(retrieved_at as timestamp) as retrieved_at,
        origin,
        cell_ref
    from source

)

select * from typed
