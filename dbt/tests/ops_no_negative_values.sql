-- A negative value of an indicator that cannot be negative (a region with a negative population,
-- a negative GRP): bad data from a source, never a fact. Checked on the latest release of the
-- active sources, as published (scales are positive, so the sign is the published one).
-- Returns the offending rows; var ops_signed_indicators lists the indicators that may be negative.
select source, region_code, region_key, indicator_code, period, value, release, origin, cell_ref
from {{ ref('int_observations_ranked') }}
where release_rank = 1
  and {{ active_source_filter('source') }}
  and indicator_code is not null
  and value < 0
  and indicator_code not in (
    {%- for code in var('ops_signed_indicators') %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    {%- if var('ops_signed_indicators') | length == 0 %}''{% endif -%}
  )
