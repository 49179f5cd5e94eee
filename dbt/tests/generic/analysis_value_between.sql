{#- Fails for values outside [min_value, max_value] (nulls pass: a null carries its reason elsewhere). -#}
{% test analysis_value_between(model, column_name, min_value, max_value) %}
select {{ column_name }} as offending_value, *
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
