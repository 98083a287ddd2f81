-- HR platform skill_certificate (SPEC §3.2): one row per primary key (the loader keeps the newest updated_at).
-- 证件号码 -> person_key (same normalisation and HMAC as the monitoring members, so people match
-- across systems); personal columns are not carried.
select
    cast(certificate_no as {{ dbt.type_string() }})                 as certificate_no,
    {{ person_key('id_number') }}                                      as person_key,
    certificate_type,
    occupation,
    cast(issued_on as date)                                            as issued_on,
    cast(updated_at as {{ dbt.type_timestamp() }})                     as updated_at,
    cast(_loaded_at as {{ dbt.type_timestamp() }})                     as _loaded_at
from {{ source('raw', 'hr_skill_certificate') }}
