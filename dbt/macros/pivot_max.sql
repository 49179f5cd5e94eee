{#- One column per key of a long table: max(case when key_column = 'key' then value_column end), named by
    `aliases` (one per key, in order) or else '<key>_<value_column>'. Comma-separated, for a grouped select. -#}
{% macro pivot_max(key_column, value_column, keys, aliases=none) -%}
    {%- for key in keys %}
        max(case when {{ key_column }} = '{{ key }}' then {{ value_column }} end)
            as {{ aliases[loop.index0] if aliases else key ~ '_' ~ value_column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
