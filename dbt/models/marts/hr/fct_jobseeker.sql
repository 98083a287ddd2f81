-- One row per jobseeker registration (SPEC §3.2 jobseeker; a later correction of wants_employment
-- wins). Basis of the willing-but-unemployed population of service_131_coverage and of the
-- jobseeker reconciliation. county_code is the HR platform's registration county.
-- prefecture_code: the prefecture of county_code in the reference (yunnan_counties); NULL when the
-- county is NULL or unknown (row-level security then shows the row to province/analyst roles only).
select
    cast(j.reg_id as {{ dbt.type_string() }})                    as reg_id,
    cast(j.person_key as {{ dbt.type_string() }})                as person_key,
    cast(j.county_code as {{ dbt.type_string() }})               as county_code,
    cast(c.prefecture_code as {{ dbt.type_string() }})           as prefecture_code,
    cast(j.registered_on as date)                                as registered_on,
    cast(j.wants_employment as boolean)                          as wants_employment
from {{ ref('stg_hr__jobseeker') }} as j
left join {{ ref('yunnan_counties') }} as c
    on c.county_code = j.county_code
