-- One row per labour-brand membership (SPEC §3.2 labor_brand_member). A member counts for snapshot
-- (Y, M) when joined_on <= the snapshot's month end (membership has no end date in the source).
-- prefecture_code: the prefecture of county_code in the reference (yunnan_counties); NULL when the
-- county is NULL or unknown (row-level security then shows the row to province/analyst roles only).
select
    b.member_id,
    b.person_key,
    b.brand_name,
    b.county_code,
    c.prefecture_code,
    b.joined_on
from {{ ref('stg_hr__labor_brand_member') }} as b
left join {{ ref('yunnan_counties') }} as c
    on c.county_code = b.county_code
