-- One row per skill certificate (SPEC §3.2 skill_certificate). certified_rate counts a trained person
-- as certified for snapshot (Y, M) when they hold ANY certificate issued in Y on or before the
-- snapshot's month end (SPEC §2 "a certificate issued in Y"; it need not name the training's trade).
-- county_code / prefecture_code: the holder's monitoring county on the issue date
-- (int_person_county_spells); NULL when the person was never exported.
with certificates as (
    select * from {{ ref('stg_hr__skill_certificate') }}
)

select
    cast(c.certificate_no as {{ dbt.type_string() }})          as certificate_no,
    cast(c.person_key as {{ dbt.type_string() }})              as person_key,
    cast(sp.county_code as {{ dbt.type_string() }})            as county_code,
    cast(sp.prefecture_code as {{ dbt.type_string() }})        as prefecture_code,
    cast(c.certificate_type as {{ dbt.type_string() }})        as certificate_type,
    cast(c.occupation as {{ dbt.type_string() }})              as occupation,
    cast(c.issued_on as date)                                  as issued_on,
    cast(extract(year from c.issued_on) as integer)            as issued_year
from certificates as c
left join {{ ref('int_person_county_spells') }} as sp
    on {{ in_county_spell('sp', 'c.person_key', 'cast(c.issued_on as date)') }}
