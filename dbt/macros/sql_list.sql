{#- A list of values as quoted SQL literals for an `in (...)`: ['a', 'b'] -> 'a', 'b'. -#}
{% macro sql_list(values) -%}
    {%- for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}
