{{ config(meta={'dagster': {'ref': {'name': 'kpi_targets'}}}) }}
-- (Dagster shows this test as a check of kpi_targets, the seed it counts: a singular test reading several models
-- is otherwise only an observation, with a warning on every run.)
-- kpi_targets holds exactly the 18 KPIs of SPEC §2 and the 4 of §2.3 (local_employment_count,
-- local_avg_employment_months, local_employment_share, rural_craftsmen), and every province-level
-- name list has 34 rows.
select 'kpi_targets' as seed, count(*) as n from {{ ref('kpi_targets') }} having count(*) <> 22
union all
select 'province_level_names', count(*) from {{ ref('province_level_names') }} having count(*) <> 34
