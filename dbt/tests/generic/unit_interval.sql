{#- Fails for values outside [0, 1] (nulls pass: a null code carries its reason elsewhere). -#}
{% test unit_interval(model, column_name) %}
select {{ column_name }} as offending_value, *
from {{ model }}
where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
