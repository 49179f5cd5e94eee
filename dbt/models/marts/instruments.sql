-- The support instruments a briefing proposes: for each comparison region's weakest defining code family and
-- weakest dynamic code (int_analysis_weak_codes; ties all kept), the var('instruments_per_code') most relevant
-- instruments of the survey (Table 1 of the code-based model paper: % of respondents), with the survey's title
-- and citation.
--   weakest family        instruments whose code_family is that family (all sections acting on it);
--   weakest dynamic code  instruments of the section named for it (information, value_competence, innovation).
-- The analyst's survey (seed analyst_survey_instruments, described in analyst_surveys) takes precedence for every
-- code it covers. Where no survey covers the weak code (the paper's survey has no section for the production family
-- and its innovation code) the row says so (match_type no_survey_section, no instrument), and, unless a surveyed
-- code is tied for weakest, the instruments for the weakest code that a survey covers follow as
-- match_type fallback_next_weakest.
-- Where a survey was taken (surveys.population_region, population_country) decides how it applies to a region:
-- survey_scope 'population' (the region is that territory or inside it), 'country' (same country: the shares are
-- indicative), 'abroad' (another country: indicative, and the instruments of the surveyed country's national policy,
-- survey_instruments.national_policy, are left out before the most relevant are chosen).
{%- set section_of = {'innovation_code': 'innovation', 'information_code': 'information',
                      'value_competence_code': 'value_competence'} %}

with weak_codes as (

    select * from {{ ref('int_analysis_weak_codes') }}

),

survey_rows as (

    select 'analyst_survey' as match_type, 1 as priority, survey, instrument_code, survey_section, code_family,
        dynamic_code, instrument_ru, instrument_en, cast(relevance_pct as double) as relevance_pct,
        coalesce(national_policy, false) as national_policy
    from {{ ref('analyst_survey_instruments') }}
    union all
    select 'survey' as match_type, 2 as priority, survey, instrument_code, survey_section, code_family,
        dynamic_code, instrument_ru, instrument_en, cast(relevance_pct as double) as relevance_pct,
        coalesce(national_policy, false) as national_policy
    from {{ ref('survey_instruments') }}

),

surveys as (

    select * from {{ ref('analyst_surveys') }}
    union all by name
    select * from {{ ref('surveys') }}
    where survey not in (select survey from {{ ref('analyst_surveys') }})

),

register as (

    select region_code, country, nullif(parent_code, '') as parent_code from {{ ref('regions') }}

),

survey_scopes as (

    -- how each survey applies to each region with a weak code
    select
        w.region_code,
        s.survey,
        case
            when s.population_region in (g.region_code, g.parent_code) then 'population'
            when s.population_country = g.country then 'country'
            when s.population_country is null then 'unspecified'
            else 'abroad'
        end as survey_scope
    from (select distinct region_code from weak_codes) as w
    inner join register as g on g.region_code = w.region_code
    cross join surveys as s

),

targets as (

    -- what each instrument addresses: a defining family (via code_family) or a dynamic code (via its section)
    select 'weakest_family' as target_type, code_family as code_name, * from survey_rows
    union all
    select
        'weakest_dynamic_code' as target_type,
        case survey_section
            {%- for code, section in section_of.items() %}
            when '{{ section }}' then '{{ code }}'
            {%- endfor %}
        end as code_name,
        *
    from survey_rows

),

preferred as (

    -- the analyst's survey wins for every code it covers
    select *
    from targets
    where code_name is not null
    qualify priority = min(priority) over (partition by target_type, code_name)

),

covered as (

    select distinct target_type, code_name from preferred

),

weak_covered as (

    select w.*, c.code_name is not null as surveyed
    from weak_codes as w
    left join covered as c on c.target_type = w.target_type and c.code_name = w.code_name

),

chosen as (

    -- the weakest codes themselves
    select region_code, year, target_type, code_name as weak_code, percentile as weak_percentile,
        code_value as weak_value, tied, code_name as addressed_code, percentile as addressed_percentile,
        case when surveyed then 'matched' else 'no_survey_section' end as match_kind
    from weak_covered
    where weakness_rank = 1
    union all
    -- fallback: the weakest surveyed code, when no surveyed code is among the weakest
    select w.region_code, w.year, w.target_type, first_weak.code_name, first_weak.percentile, first_weak.code_value,
        first_weak.tied, w.code_name as addressed_code, w.percentile as addressed_percentile,
        'fallback_next_weakest' as match_kind
    from weak_covered as w
    inner join weak_covered as first_weak
        on first_weak.region_code = w.region_code and first_weak.target_type = w.target_type
        and first_weak.weakness_rank = 1
    where w.surveyed
      and not exists (
          select 1 from weak_covered as x
          where x.region_code = w.region_code and x.target_type = w.target_type and x.weakness_rank = 1 and x.surveyed
      )
    qualify rank() over (partition by w.region_code, w.target_type, first_weak.code_name order by w.percentile) = 1

),

instruments as (

    select
        c.*,
        p.match_type as survey_match_type,
        p.instrument_code,
        p.instrument_en,
        p.instrument_ru,
        p.survey_section,
        p.relevance_pct,
        p.survey,
        row_number() over (
            partition by c.region_code, c.target_type, c.weak_code, c.addressed_code
            order by p.relevance_pct desc, p.instrument_code
        ) as instrument_rank
    from chosen as c
    inner join preferred as p on p.target_type = c.target_type and p.code_name = c.addressed_code
    inner join survey_scopes as sc on sc.region_code = c.region_code and sc.survey = p.survey
    where c.match_kind in ('matched', 'fallback_next_weakest')
      and not (p.national_policy and sc.survey_scope = 'abroad')
    qualify instrument_rank <= {{ var('instruments_per_code') }}

),

rows_ as (

    select
        region_code, year, target_type, weak_code, weak_percentile, weak_value, tied, addressed_code,
        addressed_percentile,
        case when match_kind = 'fallback_next_weakest' then match_kind else survey_match_type end as match_type,
        instrument_rank, instrument_code, instrument_en, instrument_ru, survey_section, relevance_pct, survey
    from instruments
    union all
    select
        region_code, year, target_type, weak_code, weak_percentile, weak_value, tied, addressed_code,
        addressed_percentile, 'no_survey_section' as match_type,
        cast(null as bigint), null, null, null, null, cast(null as double), null
    from chosen
    where match_kind = 'no_survey_section'

),

labels as (

    select * from (values
        ('production', 'production code P', 'производственный код P'),
        ('institutional', 'institutional code I', 'институциональный код I'),
        ('social', 'social code S', 'социальный код S'),
        ('innovation_code', 'innovation code', 'инновационный код'),
        ('information_code', 'information code', 'информационный код'),
        ('value_competence_code', 'value-and-competence code', 'ценностно-компетентностный код')
    ) as l (code_name, name_en, name_ru)

)

select
    r.region_code,
    r.year,
    r.target_type,
    r.weak_code,
    r.weak_percentile,
    r.weak_value,
    r.tied,
    r.addressed_code,
    r.addressed_percentile,
    r.match_type,
    r.instrument_rank,
    r.instrument_code,
    r.instrument_en,
    r.instrument_ru,
    r.survey_section,
    r.relevance_pct,
    r.survey,
    s.title_en as survey_title_en,
    s.title_ru as survey_title_ru,
    s.respondents as survey_respondents,
    s.period as survey_period,
    s.citation as survey_citation,
    s.population_en as survey_population_en,
    s.population_ru as survey_population_ru,
    s.respondent_groups_en as survey_respondent_groups_en,
    s.respondent_groups_ru as survey_respondent_groups_ru,
    s.sample_en as survey_sample_en,
    s.sample_ru as survey_sample_ru,
    s.reference as survey_reference,
    s.source_table as survey_source_table,
    sc.survey_scope,
    case r.match_type
        when 'no_survey_section' then
            'The weakest ' || case when r.target_type = 'weakest_family' then 'code family' else 'dynamic code' end
            || ' is the ' || lw.name_en || '; no loaded survey has a section for it (the survey of the code-based model '
            || 'paper covers the institutional, information and value-and-competence codes only), so no instrument is '
            || 'proposed for it.'
        when 'fallback_next_weakest' then
            'No survey covers the weakest ' || lw.name_en || '; these are the instruments for the weakest surveyed '
            || 'code, the ' || la.name_en || '.'
        else
            'Instruments for the ' || lw.name_en || case when r.tied then ' (tied for weakest)' else '' end
            || ', ranked by relevance in ' || case when r.match_type = 'analyst_survey' then 'the analyst''s survey'
                else 'the survey reported in the code-based model paper (Table 1)' end || '.'
    end as note_en,
    case r.match_type
        when 'no_survey_section' then
            'Самый слабый ' || case when r.target_type = 'weakest_family' then 'определяющий' else 'динамический' end
            || ' код — ' || lw.name_ru || '; ни в одном загруженном опросе нет раздела о нём (опрос из статьи о кодовой '
            || 'модели охватывает только институциональные, информационные и ценностно-компетентностные коды), '
            || 'поэтому инструменты для него не предлагаются.'
        when 'fallback_next_weakest' then
            'Ни один опрос не охватывает самый слабый код (' || lw.name_ru || '); ниже — инструменты для самого '
            || 'слабого из охваченных опросом кодов: ' || la.name_ru || '.'
        else
            'Инструменты для кода «' || lw.name_ru || '»' || case when r.tied then ' (делит место самого слабого)' else '' end
            || ' по актуальности ' || case when r.match_type = 'analyst_survey' then 'в опросе аналитика'
                else 'в опросе из статьи о кодовой модели (табл. 1)' end || '.'
    end as note_ru,
    {{ build_columns() }}
from rows_ as r
left join surveys as s on s.survey = r.survey
left join survey_scopes as sc on sc.region_code = r.region_code and sc.survey = r.survey
left join labels as lw on lw.code_name = r.weak_code
left join labels as la on la.code_name = r.addressed_code
