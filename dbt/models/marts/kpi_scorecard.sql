{#-
  KPI scorecard: as_of_month × region_code × kpi_code (SPEC §4), for every KPI of
  macros/kpi_definitions.sql (int_kpi_values, region totals). Targets, the target scope, region
  attributes, status and pace (SPEC §2.1) are applied by the macro kpi_scored, the same one that scores
  kpi_scorecard_by_group.
-#}
{{ by_month_config() }}
{{ kpi_scored("(select * from " ~ ref('int_kpi_values') ~ " where group_dimension = 'all' and " ~ in_rebuild('as_of_month') ~ ")") }}
