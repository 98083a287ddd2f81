-- One row per public welfare post assignment (SPEC §3.2 public_welfare_post). An assignment is held
-- in year Y up to snapshot (Y, M) when start_date <= the snapshot's month end and (end_date is NULL
-- or end_date >= 1 January Y); held in the whole of Y-1 when start_date <= 31 December Y-1 and
-- (end_date is NULL or end_date >= 1 January Y-1). county_code is the HR platform's county of the
-- post; the KPIs place people in their monitoring-system county instead (SPEC §2 matching rule).
-- prefecture_code: the prefecture of county_code in the reference (yunnan_counties); NULL when the
-- county is NULL or unknown (row-level security then shows the row to province/analyst roles only).
select
    cast(p.assignment_id as {{ dbt.type_string() }})             as assignment_id,
    cast(p.person_key as {{ dbt.type_string() }})                as person_key,
    cast(p.county_code as {{ dbt.type_string() }})               as county_code,
    cast(c.prefecture_code as {{ dbt.type_string() }})           as prefecture_code,
    cast(p.post_type as {{ dbt.type_string() }})                 as post_type,
    cast(p.start_date as date)                                   as start_date,
    cast(p.end_date as date)                                     as end_date,
    cast(p.monthly_subsidy_yuan as decimal(12,2))                as monthly_subsidy_yuan
from {{ ref('stg_hr__public_welfare_post') }} as p
left join {{ ref('yunnan_counties') }} as c
    on c.county_code = p.county_code
