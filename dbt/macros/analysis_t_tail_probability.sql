{#- Two-sided tail probability P(|T| > t) of Student's t with `df` degrees of freedom (DuckDB has no t
    distribution; marts.code_correlations needs it for the p-value of a correlation), given
    x = df / (df + t^2) (= cos^2 of theta = atan(|t| / sqrt(df))).

    For integer df the t distribution has finite series (Abramowitz & Stegun 26.7.3-26.7.4), written with
    s = sqrt(1 - x) = sin(theta) and c = sqrt(x) = cos(theta) and k0 = floor(df / 2):
      even df: 1 - p = s * sum_{k < k0} a_k x^k,                   a_k = Gamma(k + 1/2) / (Gamma(1/2) Gamma(k + 1))
      odd df:  1 - p = (2/pi) (asin(s) + s c sum_{k < k0} b_k x^k),  b_k = Gamma(k + 1) Gamma(3/2) / Gamma(k + 3/2)
    The full series sum to exactly 1 (sum a_k x^k = 1/s; sum b_k x^k = acos(c) / (s c)), so p itself is the
    *tail* of the series from k0 on: a sum of positive terms with no cancellation, which keeps tiny
    p-values (pooled correlations with hundreds of points) accurate. The tail converges like x^k, so it is
    used while x <= 0.99, summed until the terms fall below 1e-17 of the first (at most 4500 terms); for
    x > 0.99 (|t| small against sqrt(df), so p is not small) the finite head is used. -#}
{% macro analysis_t_tail_probability(x, df) -%}
(case
    when ({{ df }}) is null or ({{ x }}) is null or ({{ df }}) < 1 then null
    when ({{ x }}) <= 0 then 0.0
    when ({{ x }}) >= 1 then 1.0
    when ({{ x }}) <= 0.99 then
        case when cast({{ df }} as bigint) % 2 = 0 then
            sqrt(1 - ({{ x }})) * list_sum(list_transform(
                range(cast(floor(({{ df }}) / 2) as bigint),
                      cast(floor(({{ df }}) / 2) + least(4500, ceil(ln(1e-17 * (1 - ({{ x }}))) / ln({{ x }}))) as bigint)),
                lambda k: exp(lgamma(k + 0.5) - lgamma(0.5) - lgamma(k + 1) + k * ln({{ x }}))))
        else
            2 / pi() * sqrt(1 - ({{ x }})) * sqrt({{ x }}) * list_sum(list_transform(
                range(cast(floor(({{ df }}) / 2) as bigint),
                      cast(floor(({{ df }}) / 2) + least(4500, ceil(ln(1e-17 * (1 - ({{ x }}))) / ln({{ x }}))) as bigint)),
                lambda k: exp(lgamma(k + 1) + lgamma(1.5) - lgamma(k + 1.5) + k * ln({{ x }}))))
        end
    else
        greatest(0.0, least(1.0,
        case when cast({{ df }} as bigint) % 2 = 0 then
            1 - sqrt(1 - ({{ x }})) * coalesce(list_sum(list_transform(
                range(0, cast(floor(({{ df }}) / 2) as bigint)),
                lambda k: exp(lgamma(k + 0.5) - lgamma(0.5) - lgamma(k + 1) + k * ln({{ x }})))), 0)
        else
            1 - 2 / pi() * (asin(sqrt(1 - ({{ x }})))
                + sqrt(1 - ({{ x }})) * sqrt({{ x }}) * coalesce(list_sum(list_transform(
                    range(0, cast(floor(({{ df }}) / 2) as bigint)),
                    lambda k: exp(lgamma(k + 1) + lgamma(1.5) - lgamma(k + 1.5) + k * ln({{ x }})))), 0))
        end))
end)
{%- endmacro %}
