{#- Two-sided p-value of Student's t statistic `t` with `df` degrees of freedom. -#}
{% macro analysis_student_t_p_value(t, df) -%}
{{ analysis_t_tail_probability('((' ~ df ~ ') / ((' ~ df ~ ') + (' ~ t ~ ') * (' ~ t ~ ')))', df) }}
{%- endmacro %}
