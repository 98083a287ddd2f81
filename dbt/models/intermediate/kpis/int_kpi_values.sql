{#-
  Every KPI value: one row per snapshot × region × group × kpi_code, on the complete spine of
  int_kpi_measures_rolled_up. The KPIs and their formulas are the definitions in
  macros/kpi_definitions.sql (all kpi_definitions_<family> macros). Region totals (group_dimension
  'all') feed marts.kpi_scorecard; the key groups of the KPIs marked by_group feed
  marts.kpi_scorecard_by_group. Targets, status and pace are applied by the macro kpi_scored.
-#}
{%- set kpis = kpi_definitions() -%}
{{ by_month_config() }}
with measures as (
    select * from {{ ref('int_kpi_measures_rolled_up') }}
    where {{ in_rebuild('as_of_month') }}
)

{% for kpi in kpis %}
select
    as_of_month,
    region_code,
    group_dimension,
    group_value,
    '{{ kpi.code }}'                                                                       as kpi_code,
    cast({{ kpi.numerator }} as {{ type_double() }})                                      as numerator,
    cast({{ kpi.denominator or 'null' }} as {{ type_double() }})                          as denominator,
    cast({{ kpi.actual or safe_ratio(kpi.numerator, kpi.denominator or 'null') }} as {{ type_double() }}) as actual_value,
    cast({{ kpi.pace_prior_year_to_date or 'null' }} as {{ type_double() }})              as pace_prior_year_to_date,
    cast({{ kpi.pace_prior_year or 'null' }} as {{ type_double() }})                      as pace_prior_year
from measures
{%- if not kpi.by_group %}
where group_dimension = 'all'
{%- endif %}
{% if not loop.last %}union all{% endif %}
{% endfor %}
