-- One row per public welfare post assignment (SPEC §3.2 public_welfare_post). An assignment is held
-- in year Y up to snapshot (Y, M) when start_date <= the snapshot's month end and (end_date is NULL
-- or end_date >= 1 January Y); held in the whole of Y-1 when start_date <= 31 December Y-1 and
-- (end_date is NULL or end_date >= 1 January Y-1). county_code is the HR platform's county of the
-- post; the KPIs place people in their monitoring-system county instead (SPEC §2 matching rule).
select
    cast(assignment_id as {{ dbt.type_string() }})             as assignment_id,
    cast(person_key as {{ dbt.type_string() }})                as person_key,
    cast(county_code as {{ dbt.type_string() }})               as county_code,
    cast(post_type as {{ dbt.type_string() }})                 as post_type,
    cast(start_date as date)                                   as start_date,
    cast(end_date as date)                                     as end_date,
    cast(monthly_subsidy_yuan as decimal(12,2))                as monthly_subsidy_yuan
from {{ ref('stg_hr__public_welfare_post') }}
