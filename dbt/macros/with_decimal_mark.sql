{#- A number already formatted as text, with the language's decimal mark: '0.75' stays for English ('.'), becomes
    '0,75' for Russian (','). -#}
{% macro with_decimal_mark(text_expression, decimal_mark) -%}
    {%- if decimal_mark == '.' -%}{{ text_expression }}{%- else -%}replace({{ text_expression }}, '.', '{{ decimal_mark }}'){%- endif -%}
{%- endmacro %}
