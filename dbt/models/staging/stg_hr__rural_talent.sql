-- HR platform rural_talent (SPEC §3.2): one row per primary key (the loader keeps the newest updated_at).
-- 证件号码 -> person_key (same normalisation and HMAC as the monitoring members, so people match
-- across systems); personal columns are not carried.
select
    cast(talent_id as {{ dbt.type_string() }})                      as talent_id,
    {{ person_key('id_number') }}                                      as person_key,
    cast(talent_type as {{ dbt.type_string() }})                       as talent_type,
    cast(county_code as {{ dbt.type_string() }})                       as county_code,
    township_name,
    village_name,
    cast(certified_on as date)                                         as certified_on,
    cast(updated_at as {{ dbt.type_timestamp() }})                     as updated_at,
    cast(_loaded_at as {{ dbt.type_timestamp() }})                     as _loaded_at
from {{ source('raw', 'hr_rural_talent') }}
