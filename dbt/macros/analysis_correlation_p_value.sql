{#- p-value of a Pearson correlation r on n points (H0: rho = 0; t = r sqrt((n-2)/(1-r^2)), n-2 df).
    Since df / (df + t^2) = 1 - r^2 exactly, the tail is evaluated at x = 1 - r^2 (no division by
    zero at |r| = 1, where p = 0). -#}
{% macro analysis_correlation_p_value(r, n) -%}
{{ analysis_t_tail_probability('(1 - (' ~ r ~ ') * (' ~ r ~ '))', '((' ~ n ~ ') - 2)') }}
{%- endmacro %}
