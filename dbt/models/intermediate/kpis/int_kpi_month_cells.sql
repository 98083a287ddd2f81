{#-
  What later snapshots compare with, aggregated once per snapshot (issue 12): one row per snapshot M ×
  leaf region × the person's own key-group labels in M (重点帮扶县 / 搬迁 / 监测对象类别), counting
  population P (脱贫人口) only. A later snapshot S reads these rows instead of M's person rows:
    employed                     for q1_progress (M = the March of S's year)
    labor_brand_employed         for labor_brand_employment_growth (M = S's month of Y-1)
    employed_not_out_of_county,  for employment_vs_prior_year (M = S's prior year-end): people not out
    population_not_out_of_county of county in M are 返乡回流 否 for every S, so they need no person row;
                                 those out of county in M are int_members_year_end_out_of_county
  Incremental by snapshot month (macros/rebuild_months.sql).
-#}
{{ by_month_config() }}
with members as (
    {{ kpi_members() }}
)

select
    as_of_month,
    leaf_region_code,
    key_assistance_group,
    relocated_group,
    category_group,
    sum(case when not is_out_of_county then 1 else 0 end)                      as population_not_out_of_county,
    sum(case when is_employed and not is_out_of_county then 1 else 0 end)      as employed_not_out_of_county,
    sum(case when is_employed then 1 else 0 end)                               as employed,
    sum(case when is_labor_brand_member and is_employed then 1 else 0 end)     as labor_brand_employed
from members
where is_poverty_population
group by 1, 2, 3, 4, 5
