-- HR platform jobseeker (SPEC §3.2): one row per primary key (the loader keeps the newest updated_at).
-- 证件号码 -> person_key (same normalisation and HMAC as the monitoring members, so people match
-- across systems); personal columns are not carried.
select
    cast(reg_id as {{ dbt.type_string() }})                         as reg_id,
    {{ person_key('id_number') }}                                      as person_key,
    cast(county_code as {{ dbt.type_string() }})                       as county_code,
    cast(registered_on as date)                                        as registered_on,
    cast(wants_employment as boolean)                                  as wants_employment,
    cast(updated_at as {{ dbt.type_timestamp() }})                     as updated_at,
    cast(_loaded_at as {{ dbt.type_timestamp() }})                     as _loaded_at
from {{ source('raw', 'hr_jobseeker') }}
