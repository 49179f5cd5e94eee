-- The same published cell (source, dataset, table, territory, indicator, year) twice in the same
-- release: the models would pick one copy arbitrarily. Returns each duplicated key with its copies.
select
    source, dataset, table_code, region_key, indicator_key, period, release,
    count(*) as copies,
    list(value order by value) as values_seen
from {{ ref('stg_raw__observations') }}
where {{ active_source_filter('source') }}
group by all
having count(*) > 1
