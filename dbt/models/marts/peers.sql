-- The var('peers_k') most similar regions of each comparison region, on the standardised code profile and
-- structure of int_analysis_peer_profiles:
--   domestic          regions of the same country (and universe);
--   foreign_analogue  regions of other countries, compared on their within-universe standardised profiles
--                     (the "foreign experience" the strategy paper asks for: Ural regions vs European old industrial regions).
-- distance = sqrt( sum_f w_f (z_region,f - z_peer,f)^2 / sum_f w_f ) over the features both regions have;
-- a pair is compared only when those features carry at least var('coverage_threshold') of the region's
-- feature weight. Shared strengths: features where both are at least var('peers_strength_z') sd above their
-- universe's mean, strongest first (the weaker of the two z decides), at most var('peers_max_strengths') listed.
-- Ties in distance (after rounding to 12 significant digits) go to the smaller region code.
-- Cost: every pair of regions is screened once as dot products of fixed-length profile lists (O(regions^2)
-- small rows, not regions^2 x features), and only the candidates near the k-th nearest are compared feature by
-- feature.
with profiles as (

    select * from {{ ref('int_analysis_peer_profiles') }}
    where z is not null

),

labels as (

    select indicator_code as feature, name_en, name_ru from {{ ref('indicators') }}
    union all
    select * from (values
        ('production_code', 'production code P', 'производственный код P'),
        ('institutional_code', 'institutional code I', 'институциональный код I'),
        ('social_code', 'social code S', 'социальный код S')
    ) as codes (feature, name_en, name_ru)

),

features as (

    -- a fixed position for every feature, so that each region's profile is one list of equal length
    select feature, cast(row_number() over (order by feature) as integer) as slot
    from (select distinct feature from profiles)

),

regions as (

    select distinct region_code, country, universe from profiles

),

vectors as (

    -- per region, over all slots (0 where the region lacks the feature): present mask m, weight x mask wm,
    -- z x mask zm, weight x z x mask wzm and weight x z^2 x mask wz2m
    select
        r.region_code,
        r.country,
        r.universe,
        list(case when p.z is null then 0.0 else 1.0 end order by f.slot) as m,
        list(coalesce(p.weight, 0.0) order by f.slot) as wm,
        list(coalesce(p.z, 0.0) order by f.slot) as zm,
        list(coalesce(p.weight * p.z, 0.0) order by f.slot) as wzm,
        list(coalesce(p.weight * p.z * p.z, 0.0) order by f.slot) as wz2m,
        sum(p.weight) as total_weight
    from regions as r
    cross join features as f
    left join profiles as p on p.region_code = r.region_code and p.feature = f.feature
    group by r.region_code, r.country, r.universe

),

screened as (

    -- every pair at once, as dot products of the two lists (no row per pair and feature):
    -- sum over the shared features of w (a - b)^2 = wz2m_a . m_b + wz2m_b . m_a - 2 wzm_a . zm_b
    select
        a.region_code,
        b.region_code as peer_code,
        case when a.country = b.country then 'domestic' else 'foreign_analogue' end as peer_type,
        list_dot_product(a.wm, b.m) as weight_shared,
        a.total_weight,
        greatest(
            list_dot_product(a.wz2m, b.m) + list_dot_product(b.wz2m, a.m) - 2 * list_dot_product(a.wzm, b.zm), 0
        ) as squared_sum
    from vectors as a
    inner join vectors as b
        on b.region_code <> a.region_code
        and (a.country <> b.country or a.universe = b.universe)

),

candidates as (

    -- the expanded sum is exact up to rounding; keep every pair within a relative 1e-9 of the k-th nearest (so
    -- all ties at the k-th place stay), then compute the distance exactly on those few pairs below
    select region_code, peer_code, peer_type
    from (
        select
            *,
            max(approx_distance) filter (where approx_rank <= {{ var('peers_k') }})
                over (partition by region_code, peer_type) as kth_distance
        from (
            select
                *,
                sqrt(squared_sum / weight_shared) as approx_distance,
                row_number() over (partition by region_code, peer_type order by squared_sum / weight_shared)
                    as approx_rank
            from screened
            where weight_shared > 0
              and weight_shared / total_weight >= {{ var('coverage_threshold') }} - 1e-9
        )
    )
    where approx_distance <= kth_distance * (1 + 1e-9) + 1e-12

),

pairs as (

    select
        c.region_code,
        c.peer_code,
        c.peer_type,
        a.feature,
        a.weight,
        a.z as region_z,
        b.z as peer_z
    from candidates as c
    inner join profiles as a on a.region_code = c.region_code
    inner join profiles as b on b.region_code = c.peer_code and b.feature = a.feature

),

distances as (

    select
        p.region_code,
        p.peer_code,
        p.peer_type,
        sqrt(sum(p.weight * pow(p.region_z - p.peer_z, 2)) / sum(p.weight)) as distance_raw,
        count(*) as features_compared,
        sum(p.weight) / any_value(v.total_weight) as weight_compared
    from pairs as p
    inner join vectors as v on v.region_code = p.region_code
    group by p.region_code, p.peer_code, p.peer_type

),

nearest as (

    select
        *,
        row_number() over (
            partition by region_code, peer_type order by {{ analysis_round('distance_raw') }}, peer_code
        ) as peer_rank
    from distances
    where weight_compared >= {{ var('coverage_threshold') }} - 1e-9
    qualify peer_rank <= {{ var('peers_k') }}

),

strengths as (

    select
        s.region_code,
        s.peer_code,
        string_agg(s.feature, '; ' order by s.strength_rank) as shared_strengths,
        string_agg(s.name_en, '; ' order by s.strength_rank) as shared_strengths_en,
        string_agg(s.name_ru, '; ' order by s.strength_rank) as shared_strengths_ru,
        any_value(s.shared_total) as shared_strengths_count
    from (
        select
            n.region_code,
            n.peer_code,
            p.feature,
            l.name_en,
            l.name_ru,
            row_number() over (
                partition by n.region_code, n.peer_code order by least(p.region_z, p.peer_z) desc, p.feature
            ) as strength_rank,
            count(*) over (partition by n.region_code, n.peer_code) as shared_total
        from nearest as n
        inner join pairs as p on p.region_code = n.region_code and p.peer_code = n.peer_code
        inner join labels as l on l.feature = p.feature
        where p.region_z >= {{ var('peers_strength_z') }} and p.peer_z >= {{ var('peers_strength_z') }}
    ) as s
    where s.strength_rank <= {{ var('peers_max_strengths') }}
    group by s.region_code, s.peer_code

),

reference as (

    select distinct region_code, country, universe, reference_year, window_start
    from profiles

)

select
    n.region_code,
    n.peer_type,
    n.peer_rank,
    n.peer_code,
    r.country,
    pr.country as peer_country,
    r.universe,
    pr.universe as peer_universe,
    r.reference_year,
    r.window_start,
    {{ analysis_round('n.distance_raw') }} as distance,
    n.features_compared,
    {{ analysis_round('n.weight_compared') }} as weight_compared,
    coalesce(s.shared_strengths_count, 0) as shared_strengths_count,
    s.shared_strengths,
    s.shared_strengths_en,
    s.shared_strengths_ru,
    {{ build_columns() }}
from nearest as n
inner join reference as r on r.region_code = n.region_code
inner join reference as pr on pr.region_code = n.peer_code
left join strengths as s on s.region_code = n.region_code and s.peer_code = n.peer_code
