{#-
  Key-group scorecard (issue 3 §2): the KPIs marked by_group in macros/kpi_definitions.sql
  (employment_vs_prior_year, avg_employment_months, out_of_province_share, organized_outflow_share,
  wage_income_per_capita_growth) broken down by the groups the notice singles out, one row per
  snapshot × region (province / prefecture / county) × group dimension × group value × KPI, complete on
  that spine (a group without people: no_data).

  group_dimension / group_value (macro key_group_labels, returnee rule in int_kpi_measures):
    key_assistance_county  国家乡村振兴重点帮扶县      是 / 否 / 未知 (unknown flag stays 未知)
    relocated              易地扶贫搬迁户              是 / 否 / 未知
    monitoring_category    监测对象类别                非监测对象 / 脱贫不稳定户 / 边缘易致贫户 / 突发严重困难户
                                                        (+ any other exported value)
    returnee               返乡回流                    是 / 否 / 未知
  The values come from the same measures (int_kpi_measures) and the same KPI definitions as
  kpi_scorecard, and are scored by the same macro (kpi_scored). Within a dimension the groups partition
  population P on each side, so the group numerators and denominators of the count KPIs add up to the
  scorecard's (test assert_kpi_groups_add_up).
-#}
{{ by_month_config() }}
{{ kpi_scored("(select * from " ~ ref('int_kpi_values') ~ " where group_dimension <> 'all' and " ~ in_rebuild('as_of_month') ~ ")",
              group_columns=['group_dimension', 'group_value']) }}
