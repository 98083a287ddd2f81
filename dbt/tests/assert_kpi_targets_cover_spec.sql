-- kpi_targets holds exactly the 18 KPIs of SPEC §2, and every province-level name list has 34 rows.
select 'kpi_targets' as seed, count(*) as n from {{ ref('kpi_targets') }} having count(*) <> 18
union all
select 'province_level_names', count(*) from {{ ref('province_level_names') }} having count(*) <> 34
