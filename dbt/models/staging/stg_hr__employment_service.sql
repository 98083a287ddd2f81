-- HR platform employment_service (SPEC §3.2): one row per primary key (the loader keeps the newest updated_at).
-- 证件号码 -> person_key (same normalisation and HMAC as the monitoring members, so people match
-- across systems); personal columns are not carried.
select
    cast(service_id as {{ dbt.type_string() }})                     as service_id,
    {{ person_key('id_number') }}                                      as person_key,
    cast(service_type as {{ dbt.type_string() }})                      as service_type,
    cast(service_date as date)                                         as service_date,
    cast(updated_at as {{ dbt.type_timestamp() }})                     as updated_at,
    cast(_loaded_at as {{ dbt.type_timestamp() }})                     as _loaded_at
from {{ source('raw', 'hr_employment_service') }}
