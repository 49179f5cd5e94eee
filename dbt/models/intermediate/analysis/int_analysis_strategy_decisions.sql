-- The strategy decision from the three scores (the rule of Akulov and Chelombitko; doc paper_strategy in
-- models/_papers.md): comprehensive diversification needs a large local market, a favourable economic-geographic
-- location and high local significance together, so
--   comprehensive_diversification  all three scores at or above their thresholds (vars strategy_*_threshold);
--   smart_specialisation           any available score below its threshold (diversification is then ruled out
--                                  whatever the missing scores would say);
--   insufficient_data              a score is missing and none of the available ones rules diversification out
--                                  (the decision is not guessed).
-- The reasons are spelled out in English and Russian, each score against its threshold: one sentence template,
-- worded per language below. Carries every column of int_analysis_strategy_scores.
{%- set scores = [
    ('market', var('strategy_market_threshold'), 'local market capacity', 'ёмкость локального рынка'),
    ('location', var('strategy_location_threshold'), 'economic-geographic location', 'экономико-географическое положение'),
    ('significance', var('strategy_significance_threshold'), 'local significance', 'локальная значимость'),
] %}
{#- Each phrase in English and Russian, side by side; the languages in that order (name, suffix of the score's
    missing reason, decimal mark). -#}
{%- set languages = [('en', '', '.'), ('ru', '_ru', ',')] %}
{%- set phrases = {
    'no_score': ('no score', 'нет оценки'),
    'not_computed': ('not computed', 'не рассчитана'),
    'at_least': (' ≥ ', ' ≥ '),
    'below': (' < ', ' < '),
    'met': (' (met)', ' (выполнено)'),
    'not_met': (' (not met)', ' (не выполнено)'),
    'comprehensive_diversification': (
        'All three scores meet their thresholds: comprehensive diversification of the economy, as West Yorkshire, Nord-Pas-de-Calais and Saarland did.',
        'Все три оценки достигают порогов: комплексная диверсификация экономики, как в Западном Йоркшире, Нор — Па-де-Кале и Сааре.'),
    'smart_specialisation': (
        'Comprehensive diversification needs all three, so smart specialisation: build on the strongest industrial competences and the innovation ecosystem, revitalise problem areas, cooperate across regions.',
        'Комплексная диверсификация требует выполнения всех трёх условий, поэтому умная специализация: опора на сильнейшие промышленные компетенции и инновационную экосистему, ревитализация проблемных территорий, межрегиональное сотрудничество.'),
    'insufficient_data': (
        'Insufficient data: the missing score decides between the two strategies, so no recommendation is guessed.',
        'Недостаточно данных: недостающая оценка решает выбор между стратегиями, рекомендация не угадывается.'),
    'no_transport': (
        ' Location does not include transport: no transport indicator has a value for the year.',
        ' Положение оценено без транспорта: транспортных показателей за этот год нет.'),
} %}

with scores as (

    select * from {{ ref('int_analysis_strategy_scores') }}

),

checked as (

    select
        *,
        {%- for s, threshold, en, ru in scores %}
        {{ threshold }} as {{ s }}_threshold,
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

    -- each score against its threshold, '; '-separated, e.g. 'local market capacity 0.75 >= 0.75 (met)'
    select
        *
        {%- for name, reason_suffix, decimal_mark in languages %}
        {%- set l = loop.index0 %},
        concat_ws('; ',
        {%- for s, threshold, en, ru in scores %}
            case
                when {{ s }}_score is null then '{{ (en, ru)[l] }}: {{ phrases.no_score[l] }} ('
                    || coalesce({{ s }}_missing_reason{{ reason_suffix }}, '{{ phrases.not_computed[l] }}') || ')'
                else '{{ (en, ru)[l] }} ' || {{ with_decimal_mark("printf('%.2f', " ~ s ~ "_score)", decimal_mark) }}
                    || case when {{ s }}_met then '{{ phrases.at_least[l] }}' else '{{ phrases.below[l] }}' end
                    || {{ with_decimal_mark("printf('%.2f', " ~ threshold ~ ")", decimal_mark) }}
                    || case when {{ s }}_met then '{{ phrases.met[l] }}' else '{{ phrases.not_met[l] }}' end
            end{% if not loop.last %},{% endif %}
        {%- endfor %}
        ) as scores_{{ name }}
        {%- endfor %}
    from decided

)

select
    * exclude (missing_scores, failed_scores{% for name, reason_suffix, decimal_mark in languages %}, scores_{{ name }}{% endfor %})
    {%- for name, reason_suffix, decimal_mark in languages %}
    {%- set l = loop.index0 %},
    upper(substr(scores_{{ name }}, 1, 1)) || substr(scores_{{ name }}, 2) || '. ' || case decision
        {%- for decision in ['comprehensive_diversification', 'smart_specialisation'] %}
        when '{{ decision }}' then '{{ phrases[decision][l] }}'
        {%- endfor %}
        else '{{ phrases.insufficient_data[l] }}'
    end
    || case when transport_indicators_used = 0 and location_score is not null then '{{ phrases.no_transport[l] }}' else '' end
        as reasons_{{ name }}
    {%- endfor %}
from worded
