{#- The three code families of the model, in their fixed order, and the dynamic code each one generates (its rate
    of change): production P -> innovation code, institutional I -> information code, social S ->
    value-and-competence code. Every model that lists the families or pivots by them reads them here. -#}
{% macro code_families() -%}
    {{ return({
        'production': 'innovation_code',
        'institutional': 'information_code',
        'social': 'value_competence_code',
    }) }}
{%- endmacro %}
