-- One row per employment service delivered (SPEC §3.2 employment_service): career_guidance (职业指导),
-- job_referral (岗位推荐), training_referral (培训推荐). Basis of service_131_coverage.
-- county_code / prefecture_code: the person's monitoring county on the service date
-- (int_person_county_spells); NULL when the person was never exported.
with services as (
    select * from {{ ref('stg_hr__employment_service') }}
)

select
    v.service_id,
    v.person_key,
    sp.county_code,
    sp.prefecture_code,
    v.service_type,
    v.service_date,
    cast(extract(year from v.service_date) as integer)         as service_year
from services as v
left join {{ ref('int_person_county_spells') }} as sp
    on {{ in_county_spell('sp', 'v.person_key', 'cast(v.service_date as date)') }}
