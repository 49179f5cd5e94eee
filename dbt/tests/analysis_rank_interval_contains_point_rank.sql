-- The rank interval [rank_low, rank_high] contains the point rank, the quantiles are ordered
-- (p5 <= median <= p95, all inside the interval) and every rank lies within 1..n_regions.
-- Returns the offending rows (none when the invariant holds).
select *
from {{ ref('rank_intervals') }}
where not (rank_low <= point_rank and point_rank <= rank_high)
   or not (rank_low <= rank_p5 and rank_p5 <= rank_median and rank_median <= rank_p95 and rank_p95 <= rank_high)
   or rank_low < 1
   or rank_high > n_regions
   or point_rank > n_regions
