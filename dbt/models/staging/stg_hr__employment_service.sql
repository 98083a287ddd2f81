-- HR platform employment_service (SPEC §3.2): one row per primary key (the loader keeps the newest updated_at).
-- 证件号码 -> person_key (same normalisation and HMAC as the monitoring members, so people match
-- across systems); personal columns are not carried.
-- A person has many service rows (≈ 6 in the simulated platform): person_key is hashed once per
-- 证件号码 (macro person_keys) and joined back. The other HR tables hold about one row per person,
-- so they hash per row (a join would cost more than it saves).
with person_keys as (
    {{ person_keys(source('raw', 'hr_employment_service'), 'id_number') }}
)

select
    cast(s.service_id as {{ dbt.type_string() }})                   as service_id,
    k.person_key,
    cast(s.service_type as {{ dbt.type_string() }})                    as service_type,
    cast(s.service_date as date)                                       as service_date,
    cast(s.updated_at as {{ dbt.type_timestamp() }})                   as updated_at,
    cast(s._loaded_at as {{ dbt.type_timestamp() }})                   as _loaded_at
from {{ source('raw', 'hr_employment_service') }} as s
left join person_keys as k
    on k.key_id_number = s.id_number
