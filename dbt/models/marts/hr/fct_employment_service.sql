-- One row per employment service delivered (SPEC §3.2 employment_service): career_guidance (职业指导),
-- job_referral (岗位推荐), training_referral (培训推荐). Basis of service_131_coverage.
select
    cast(service_id as {{ dbt.type_string() }})                as service_id,
    cast(person_key as {{ dbt.type_string() }})                as person_key,
    cast(service_type as {{ dbt.type_string() }})              as service_type,
    cast(service_date as date)                                 as service_date,
    cast(extract(year from service_date) as integer)           as service_year
from {{ ref('stg_hr__employment_service') }}
