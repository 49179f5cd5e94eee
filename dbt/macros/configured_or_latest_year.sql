{#- The reference year of an analysis: the year var(var_name) names, or, when it is null (the default), the latest
    year of year_column in the group. For a grouped select. -#}
{% macro configured_or_latest_year(var_name, year_column='year') -%}
    {%- if var(var_name) is not none -%}{{ var(var_name) }}{%- else -%}max({{ year_column }}){%- endif -%}
{%- endmacro %}
