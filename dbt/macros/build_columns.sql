{#- Columns every mart carries: which refresh built it, and whether its data are synthetic. -#}
{% macro build_columns() -%}
    cast('{{ var("build_id") }}' as varchar) as build_id,
    cast('{{ var("data_label") }}' as varchar) as data_label
{%- endmacro %}
