{#- Columns every mart carries: which refresh built it, and whether its data are synthetic. -#}
{% macro build_columns() -%}
    cast('{{ build_setting("build_id") }}' as varchar) as build_id,
    cast('{{ build_setting("data_label") }}' as varchar) as data_label
{%- endmacro %}

{#- One value that changes from build to build (build_id, data_label, active_sources), read when the SQL is
    compiled for execution: from the environment variable REGIOCODE_DBT_<NAME> (the pipeline sets it, as
    JSON) when it is set, else from var(name) (`dbt build --vars '{build_id: x}'` still works). The pipeline
    passes these by environment rather than --vars because dbt re-parses the whole project whenever the
    command-line vars differ from those of its last parse (~6-16 s on 2 cores); while parsing (execute is
    false) the rendered value is never used, so the variable is not read and no file depends on it. -#}
{% macro build_setting(name) -%}
    {%- set env_name = 'REGIOCODE_DBT_' ~ (name | upper) -%}
    {%- if execute and env_var(env_name, '') != '' -%}
        {{- return(fromjson(env_var(env_name))) -}}
    {%- endif -%}
    {{- return(var(name)) -}}
{%- endmacro %}
