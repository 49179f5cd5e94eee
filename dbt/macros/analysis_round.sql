{#- Round to `digits` significant digits (null, 0, non-finite and sub-1e-280 values unchanged), so that a
    statistic does not change in the last bits with the order of a parallel aggregation and unit tests can
    compare it exactly. -#}
{% macro analysis_round(expression, digits=12) -%}
(case
    when ({{ expression }}) is null or isinf({{ expression }}) or isnan({{ expression }})
        or abs({{ expression }}) < 1e-280 then ({{ expression }})
    else round(({{ expression }}) * pow(10, {{ digits }} - 1 - floor(log10(abs({{ expression }})))))
        / pow(10, {{ digits }} - 1 - floor(log10(abs({{ expression }}))))
end)
{%- endmacro %}
