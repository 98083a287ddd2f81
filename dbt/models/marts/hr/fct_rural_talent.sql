-- One row per certified rural talent (SPEC §3.2 rural_talent). The village of a talent is the
-- record's own county_code + township_name + village_name (trimmed), matched by name to the villages
-- of the monitoring export (the HR platform has no village code).
-- prefecture_code: the prefecture of county_code in the reference (yunnan_counties); NULL when the
-- county is NULL or unknown (row-level security then shows the row to province/analyst roles only).
select
    cast(t.talent_id as {{ dbt.type_string() }})                 as talent_id,
    cast(t.person_key as {{ dbt.type_string() }})                as person_key,
    cast(t.talent_type as {{ dbt.type_string() }})               as talent_type,
    cast(t.county_code as {{ dbt.type_string() }})               as county_code,
    cast(c.prefecture_code as {{ dbt.type_string() }})           as prefecture_code,
    cast(trim(t.township_name) as {{ dbt.type_string() }})       as township_name,
    cast(trim(t.village_name) as {{ dbt.type_string() }})        as village_name,
    cast(t.certified_on as date)                                 as certified_on
from {{ ref('stg_hr__rural_talent') }} as t
left join {{ ref('yunnan_counties') }} as c
    on c.county_code = t.county_code
