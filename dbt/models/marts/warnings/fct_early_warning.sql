-- The early-warning worklist (就业不稳预警, SPEC §2.3): one row per snapshot × person of population P ×
-- reason (stalled 断工 / returned 返乡回流 / unserved 有意愿未就业未服务); rules in
-- int_early_warnings_listed. A list of people for county staff, keyed by the monitoring system's own
-- 户编号 / 人口编号: published to PostgreSQL for county, prefecture and province roles only (row-level
-- security), kept out of the serving file and marts_zh (meta zengshou_publish: county_roles_only);
-- everyone else sees marts.fct_early_warning_counts.
{{ by_month_config() }}
select
    cast(as_of_month as date)                                  as as_of_month,
    cast(year as integer)                                      as year,
    cast(county_code as {{ dbt.type_string() }})               as county_code,
    cast(prefecture_code as {{ dbt.type_string() }})           as prefecture_code,
    cast(township_name as {{ dbt.type_string() }})             as township_name,
    cast(village_name as {{ dbt.type_string() }})              as village_name,
    cast(household_no as {{ dbt.type_string() }})              as household_no,
    cast(person_no as {{ dbt.type_string() }})                 as person_no,
    cast(reason as {{ dbt.type_string() }})                    as reason,
    cast(reason_label_zh as {{ dbt.type_string() }})           as reason_label_zh,
    cast(months_worked as integer)                             as months_worked,
    cast(previous_months_worked as integer)                    as previous_months_worked,
    cast(work_region as {{ dbt.type_string() }})               as work_region,
    cast(previous_work_region as {{ dbt.type_string() }})      as previous_work_region
from {{ ref('int_early_warnings_listed') }}
where {{ in_rebuild('as_of_month') }}
