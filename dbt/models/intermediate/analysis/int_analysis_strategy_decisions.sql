-- The strategy decision from the three scores (the rule of Akulov and Chelombitko; doc paper_strategy in
-- models/_papers.md): comprehensive diversification needs a large local market, a favourable economic-geographic
-- location and high local significance together, so
--   comprehensive_diversification  all three scores at or above their thresholds (vars strategy_*_threshold);
--   smart_specialisation           any available score below its threshold (diversification is then ruled out
--                                  whatever the missing scores would say);
--   insufficient_data              a score is missing and none of the available ones rules diversification out
--                                  (the decision is not guessed).
-- The reasons are spelled out in English and Russian, each score against its threshold.
{%- set scores = [
    ('market', var('strategy_market_threshold'), 'local market capacity', 'ёмкость локального рынка'),
    ('location', var('strategy_location_threshold'), 'economic-geographic location', 'экономико-географическое положение'),
    ('significance', var('strategy_significance_threshold'), 'local significance', 'локальная значимость'),
] %}

with scores as (

    select * from {{ ref('int_analysis_strategy_scores') }}

),

checked as (

    select
        *,
        {%- for s, threshold, en, ru in scores %}
        {{ s }}_score >= {{ threshold }} as {{ s }}_met,
        {%- endfor %}
        {% for s, threshold, en, ru in scores %}case when {{ s }}_score is null then 1 else 0 end{% if not loop.last %} + {% endif %}{% endfor %}
            as missing_scores,
        {% for s, threshold, en, ru in scores %}case when {{ s }}_score < {{ threshold }} then 1 else 0 end{% if not loop.last %} + {% endif %}{% endfor %}
            as failed_scores
    from scores

),

decided as (

    select
        *,
        case
            when failed_scores > 0 then 'smart_specialisation'
            when missing_scores > 0 then 'insufficient_data'
            else 'comprehensive_diversification'
        end as decision
    from checked

),

worded as (

    select
        *,
        concat_ws('; ',
        {%- for s, threshold, en, ru in scores %}
            case
                when {{ s }}_score is null then '{{ en }}: no score (' || coalesce({{ s }}_missing_reason, 'not computed') || ')'
                else '{{ en }} ' || printf('%.2f', {{ s }}_score)
                    || case when {{ s }}_met then ' >= ' else ' < ' end || printf('%.2f', {{ threshold }})
                    || case when {{ s }}_met then ' (met)' else ' (not met)' end
            end{% if not loop.last %},{% endif %}
        {%- endfor %}
        ) as scores_en,
        concat_ws('; ',
        {%- for s, threshold, en, ru in scores %}
            case
                when {{ s }}_score is null then '{{ ru }}: нет оценки (' || coalesce({{ s }}_missing_reason_ru, 'не рассчитана') || ')'
                else '{{ ru }} ' || replace(printf('%.2f', {{ s }}_score), '.', ',')
                    || case when {{ s }}_met then ' ≥ ' else ' < ' end || replace(printf('%.2f', {{ threshold }}), '.', ',')
                    || case when {{ s }}_met then ' (выполнено)' else ' (не выполнено)' end
            end{% if not loop.last %},{% endif %}
        {%- endfor %}
        ) as scores_ru
    from decided

)

select
    region_code,
    country,
    universe,
    percentile_group,
    district_code,
    year,
    capital_region,
    population_thousand,
    market_basis,
    market_capacity,
    market_score,
    {{ var('strategy_market_threshold') }} as market_threshold,
    market_met,
    market_missing_reason,
    market_missing_reason_ru,
    density_per_km2,
    urban_population_share,
    transport_indicators_used,
    location_score,
    {{ var('strategy_location_threshold') }} as location_threshold,
    location_met,
    location_missing_reason,
    location_missing_reason_ru,
    grp_total,
    grp_national_share,
    grp_district_share,
    significance_score,
    {{ var('strategy_significance_threshold') }} as significance_threshold,
    significance_met,
    significance_missing_reason,
    significance_missing_reason_ru,
    decision,
    upper(substr(scores_en, 1, 1)) || substr(scores_en, 2) || '. ' || case decision
        when 'comprehensive_diversification' then
            'All three scores meet their thresholds: comprehensive diversification of the economy, as West Yorkshire, '
            || 'Nord-Pas-de-Calais and Saarland did (seed 000).'
        when 'smart_specialisation' then
            'Comprehensive diversification needs all three, so smart specialisation: build on the strongest industrial '
            || 'competences and the innovation ecosystem, revitalise problem areas, cooperate across regions (seed 000).'
        else
            'Insufficient data: the missing score decides between the two strategies, so no recommendation is guessed.'
    end
    {%- if var('strategy_transport_indicators') | length == 0 %}
    || ' Location does not include transport: no transport indicator is loaded.'
    {%- endif %} as reasons_en,
    upper(substr(scores_ru, 1, 1)) || substr(scores_ru, 2) || '. ' || case decision
        when 'comprehensive_diversification' then
            'Все три оценки достигают порогов: комплексная диверсификация экономики, как в Западном Йоркшире, '
            || 'Нор — Па-де-Кале и Сааре (seed 000).'
        when 'smart_specialisation' then
            'Комплексная диверсификация требует выполнения всех трёх условий, поэтому умная специализация: опора на '
            || 'сильнейшие промышленные компетенции и инновационную экосистему, ревитализация проблемных территорий, '
            || 'межрегиональное сотрудничество (seed 000).'
        else
            'Недостаточно данных: недостающая оценка решает выбор между стратегиями, рекомендация не угадывается.'
    end
    {%- if var('strategy_transport_indicators') | length == 0 %}
    || ' Положение оценено без транспорта: транспортные показатели не загружены.'
    {%- endif %} as reasons_ru
from worded
