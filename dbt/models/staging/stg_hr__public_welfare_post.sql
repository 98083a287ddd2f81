-- HR platform public_welfare_post (SPEC §3.2): one row per primary key (the loader keeps the newest updated_at).
-- 证件号码 -> person_key (same normalisation and HMAC as the monitoring members, so people match
-- across systems); personal columns are not carried.
select
    cast(assignment_id as {{ dbt.type_string() }})                  as assignment_id,
    {{ person_key('id_number') }}                                      as person_key,
    cast(county_code as {{ dbt.type_string() }})                       as county_code,
    post_type,
    cast(start_date as date)                                           as start_date,
    cast(end_date as date)                                             as end_date,
    cast(monthly_subsidy_yuan as decimal(12,2))                        as monthly_subsidy_yuan,
    cast(updated_at as {{ dbt.type_timestamp() }})                     as updated_at,
    cast(_loaded_at as {{ dbt.type_timestamp() }})                     as _loaded_at
from {{ source('raw', 'hr_public_welfare_post') }}
