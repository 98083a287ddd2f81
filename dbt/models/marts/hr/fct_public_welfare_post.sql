-- One row per public welfare post assignment (SPEC §3.2 public_welfare_post). An assignment is held
-- in year Y up to snapshot (Y, M) when start_date <= the snapshot's month end and (end_date is NULL
-- or end_date >= 1 January Y); held in the whole of Y-1 when start_date <= 31 December Y-1 and
-- (end_date is NULL or end_date >= 1 January Y-1). county_code is the HR platform's county of the
-- post; the KPIs place people in their monitoring-system county instead (SPEC §2 matching rule).
-- prefecture_code: the prefecture of county_code in the reference (yunnan_counties); NULL when the
-- county is NULL or unknown (row-level security then shows the row to province/analyst roles only).
select
    p.assignment_id,
    p.person_key,
    p.county_code,
    c.prefecture_code,
    p.post_type,
    p.start_date,
    p.end_date,
    p.monthly_subsidy_yuan
from {{ ref('stg_hr__public_welfare_post') }} as p
left join {{ ref('yunnan_counties') }} as c
    on c.county_code = p.county_code
