{#- The active-source filter: empty list = all sources (build_setting: REGIOCODE_DBT_ACTIVE_SOURCES or the var). -#}
{% macro active_source_filter(column='source') -%}
    {%- set sources = build_setting('active_sources') -%}
    {%- if sources is string -%}{%- set sources = sources.split(',') if sources else [] -%}{%- endif -%}
    {%- if sources | length > 0 -%}
        {{ column }} in ({% for s in sources %}'{{ s | trim }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
