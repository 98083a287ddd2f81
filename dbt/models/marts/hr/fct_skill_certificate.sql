-- One row per skill certificate (SPEC §3.2 skill_certificate). certified_rate counts a trained person
-- as certified for snapshot (Y, M) when they hold ANY certificate issued in Y on or before the
-- snapshot's month end (SPEC §2 "a certificate issued in Y"; it need not name the training's trade).
-- county_code / prefecture_code: the holder's monitoring county on the issue date
-- (int_person_county_spells); NULL when the person was never exported.
with certificates as (
    select * from {{ ref('stg_hr__skill_certificate') }}
)

select
    c.certificate_no,
    c.person_key,
    sp.county_code,
    sp.prefecture_code,
    c.certificate_type,
    c.occupation,
    c.issued_on,
    cast(extract(year from c.issued_on) as integer)            as issued_year
from certificates as c
left join {{ ref('int_person_county_spells') }} as sp
    on {{ in_county_spell('sp', 'c.person_key', 'cast(c.issued_on as date)') }}
