{#- Columns every mart carries: which refresh built it, and whether its data are synthetic. -#}
{% macro build_columns() -%}
    cast('{{ var("build_id") }}' as varchar) as build_id,
    cast('{{ var("data_label") }}' as varchar) as data_label
{%- endmacro %}

{#- The active-source filter: empty list = all sources. -#}
{% macro active_source_filter(column='source') -%}
    {%- set sources = var('active_sources') -%}
    {%- if sources is string -%}{%- set sources = sources.split(',') if sources else [] -%}{%- endif -%}
    {%- if sources | length > 0 -%}
        {{ column }} in ({% for s in sources %}'{{ s | trim }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
