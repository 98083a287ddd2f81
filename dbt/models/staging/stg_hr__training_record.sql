-- HR platform training_record (SPEC §3.2): one row per primary key (the loader keeps the newest updated_at).
-- 证件号码 -> person_key (same normalisation and HMAC as the monitoring members, so people match
-- across systems); personal columns are not carried.
select
    cast(training_id as {{ dbt.type_string() }})                    as training_id,
    {{ person_key('id_number') }}                                      as person_key,
    program_name,
    training_mode,
    cast(start_date as date)                                           as start_date,
    cast(end_date as date)                                             as end_date,
    cast(completed as boolean)                                         as completed,
    cast(updated_at as {{ dbt.type_timestamp() }})                     as updated_at,
    cast(_loaded_at as {{ dbt.type_timestamp() }})                     as _loaded_at
from {{ source('raw', 'hr_training_record') }}
