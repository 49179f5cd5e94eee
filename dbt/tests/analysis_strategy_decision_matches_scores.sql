-- The decision follows from the scores: diversification only when all three thresholds are met, smart
-- specialisation only when at least one available score misses its threshold, insufficient data only when a
-- score is missing and none misses. Returns the rows that break the rule.
select region_code, year, decision, market_met, location_met, significance_met
from {{ ref('strategy') }}
where (decision = 'comprehensive_diversification'
        and not (coalesce(market_met, false) and coalesce(location_met, false) and coalesce(significance_met, false)))
   or (decision = 'smart_specialisation'
        and not (market_met = false or location_met = false or significance_met = false))
   or (decision = 'insufficient_data'
        and (market_met = false or location_met = false or significance_met = false
             or (market_met is not null and location_met is not null and significance_met is not null)))
