{#- Whether a territory is a comparison region, one of those the codes are normalised and ranked among: it has a
    comparison universe and its level is one of var('universe_levels') (subjects and NUTS-2 regions by default;
    countries, districts, NUTS-1 and the parts of subjects are shown but not compared). -#}
{% macro is_comparison_region(universe='universe', level='level') -%}
    {{ universe }} is not null and {{ level }} in ({{ sql_list(var('universe_levels')) }})
{%- endmacro %}
