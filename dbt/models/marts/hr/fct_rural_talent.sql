-- One row per certified rural talent (SPEC §3.2 rural_talent). The village of a talent is the
-- record's own county_code + township_name + village_name (trimmed), matched by name to the villages
-- of the monitoring export (the HR platform has no village code).
-- prefecture_code: the prefecture of county_code in the reference (yunnan_counties); NULL when the
-- county is NULL or unknown (row-level security then shows the row to province/analyst roles only).
select
    t.talent_id,
    t.person_key,
    t.talent_type,
    t.county_code,
    c.prefecture_code,
    trim(t.township_name)                                        as township_name,
    trim(t.village_name)                                         as village_name,
    t.certified_on
from {{ ref('stg_hr__rural_talent') }} as t
left join {{ ref('yunnan_counties') }} as c
    on c.county_code = t.county_code
