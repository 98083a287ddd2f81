-- One row per certified rural talent (SPEC §3.2 rural_talent). The village of a talent is the
-- record's own county_code + township_name + village_name (trimmed), matched by name to the villages
-- of the monitoring export (the HR platform has no village code).
select
    cast(talent_id as {{ dbt.type_string() }})                 as talent_id,
    cast(person_key as {{ dbt.type_string() }})                as person_key,
    cast(talent_type as {{ dbt.type_string() }})               as talent_type,
    cast(county_code as {{ dbt.type_string() }})               as county_code,
    cast(trim(township_name) as {{ dbt.type_string() }})       as township_name,
    cast(trim(village_name) as {{ dbt.type_string() }})        as village_name,
    cast(certified_on as date)                                 as certified_on
from {{ ref('stg_hr__rural_talent') }}
