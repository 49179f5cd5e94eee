-- The var('peers_k') most similar regions of each comparison region, on the standardised code profile and
-- structure of int_analysis_peer_profiles:
--   domestic          regions of the same country (and universe);
--   foreign_analogue  regions of other countries, compared on their within-universe standardised profiles
--                     (seed 000's "foreign experience": Ural regions vs European old industrial regions).
-- distance = sqrt( sum_f w_f (z_region,f - z_peer,f)^2 / sum_f w_f ) over the features both regions have;
-- a pair is compared only when those features carry at least var('coverage_threshold') of the region's
-- feature weight. Shared strengths: features where both are at least var('peers_strength_z') sd above their
-- universe's mean, strongest first (the weaker of the two z decides), at most var('peers_max_strengths') listed.
-- Ties in distance (after rounding to 12 significant digits) go to the smaller region code.
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

region_weights as (

    select region_code, sum(weight) as total_weight
    from profiles
    group by region_code

),

pairs as (

    select
        a.region_code,
        b.region_code as peer_code,
        case when a.country = b.country then 'domestic' else 'foreign_analogue' end as peer_type,
        a.feature,
        a.weight,
        a.z as region_z,
        b.z as peer_z
    from profiles as a
    inner join profiles as b
        on b.feature = a.feature
        and b.region_code <> a.region_code
        and (a.country <> b.country or a.universe = b.universe)

),

distances as (

    select
        p.region_code,
        p.peer_code,
        p.peer_type,
        sqrt(sum(p.weight * pow(p.region_z - p.peer_z, 2)) / sum(p.weight)) as distance_raw,
        count(*) as features_compared,
        sum(p.weight) / any_value(w.total_weight) as weight_compared
    from pairs as p
    inner join region_weights as w on w.region_code = p.region_code
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
