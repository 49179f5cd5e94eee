{#- The number of decimals a value was printed with (0–6): the fewest d for which value × 10^d is a whole number
    (up to binary noise). 4312.6 → 1, 4312.661 → 3, 1990836.7 → 1, a value with more than 6 decimals → 6. -#}
{% macro printed_decimals(value) -%}
coalesce(list_min(list_filter(range(0, 7),
    lambda d: abs({{ value }} * pow(10, d) - round({{ value }} * pow(10, d)))
        <= 1e-6 * greatest(1, abs({{ value }} * pow(10, d))) * 1e-3)), 6)
{%- endmacro %}
