-- One row per labour-brand membership (SPEC §3.2 labor_brand_member). A member counts for snapshot
-- (Y, M) when joined_on <= the snapshot's month end (membership has no end date in the source).
select
    cast(member_id as {{ dbt.type_string() }})                 as member_id,
    cast(person_key as {{ dbt.type_string() }})                as person_key,
    cast(brand_name as {{ dbt.type_string() }})                as brand_name,
    cast(county_code as {{ dbt.type_string() }})               as county_code,
    cast(joined_on as date)                                    as joined_on
from {{ ref('stg_hr__labor_brand_member') }}
