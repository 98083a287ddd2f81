-- One row per jobseeker registration (SPEC §3.2 jobseeker; a later correction of wants_employment
-- wins). Basis of the willing-but-unemployed population of service_131_coverage and of the
-- jobseeker reconciliation. county_code is the HR platform's registration county.
-- prefecture_code: the prefecture of county_code in the reference (yunnan_counties); NULL when the
-- county is NULL or unknown (row-level security then shows the row to province/analyst roles only).
select
    j.reg_id,
    j.person_key,
    j.county_code,
    c.prefecture_code,
    j.registered_on,
    j.wants_employment
from {{ ref('stg_hr__jobseeker') }} as j
left join {{ ref('yunnan_counties') }} as c
    on c.county_code = j.county_code
