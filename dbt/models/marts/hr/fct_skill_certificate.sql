-- One row per skill certificate (SPEC §3.2 skill_certificate). certified_rate counts a trained person
-- as certified for snapshot (Y, M) when they hold ANY certificate issued in Y on or before the
-- snapshot's month end (SPEC §2 "a certificate issued in Y"; it need not name the training's trade).
select
    cast(certificate_no as {{ dbt.type_string() }})            as certificate_no,
    cast(person_key as {{ dbt.type_string() }})                as person_key,
    cast(certificate_type as {{ dbt.type_string() }})          as certificate_type,
    cast(occupation as {{ dbt.type_string() }})                as occupation,
    cast(issued_on as date)                                    as issued_on,
    cast(extract(year from issued_on) as integer)              as issued_year
from {{ ref('stg_hr__skill_certificate') }}
