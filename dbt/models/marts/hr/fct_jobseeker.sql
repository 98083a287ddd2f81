-- One row per jobseeker registration (SPEC §3.2 jobseeker; a later correction of wants_employment
-- wins). Basis of the willing-but-unemployed population of service_131_coverage and of the
-- jobseeker reconciliation. county_code is the HR platform's registration county.
select
    cast(reg_id as {{ dbt.type_string() }})                    as reg_id,
    cast(person_key as {{ dbt.type_string() }})                as person_key,
    cast(county_code as {{ dbt.type_string() }})               as county_code,
    cast(registered_on as date)                                as registered_on,
    cast(wants_employment as boolean)                          as wants_employment
from {{ ref('stg_hr__jobseeker') }}
