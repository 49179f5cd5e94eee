{#- Reproducible pseudo-random numbers in plain SQL for marts.rank_intervals: a uniform draw in (0, 1) from the
    first 52 bits of the MD5 of a key string. MD5 is standardised, so the same key (seed, draw, item) gives the
    same number on any machine and any DuckDB version, unlike hash() or random(). -#}
{% macro analysis_uniform(key_expression) -%}
((cast(('0x' || substr(md5(cast({{ key_expression }} as varchar)), 1, 13)) as bigint) + 0.5) / 4503599627370496.0)
{%- endmacro %}
