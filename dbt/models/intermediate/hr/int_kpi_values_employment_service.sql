-- Long-format KPI values of the employment-service family (SPEC §2).
--   service_131_coverage  willing-but-unemployed 脱贫人口 (a jobseeker row with wants_employment = true
--                         registered on or before the month end, and not employed in the snapshot)
--                         who received in Y, up to the month end, >= 1 career_guidance, >= 3
--                         job_referral and >= 1 training_referral service rows ÷ all of them.
-- Facts: marts.fct_jobseeker, marts.fct_employment_service.
select
    s.as_of_month,
    s.region_code,
    'service_131_coverage'                                                       as kpi_code,
    cast(coalesce(r.willing_unemployed_served_131, 0) as {{ type_double() }})    as numerator,
    cast(coalesce(r.willing_unemployed, 0) as {{ type_double() }})               as denominator,
    {{ safe_ratio('coalesce(r.willing_unemployed_served_131, 0)', 'coalesce(r.willing_unemployed, 0)') }} as actual_value
from {{ ref('int_snapshot_regions_crossed') }} as s
left join {{ ref('int_members_hr_rolled_up') }} as r
    on r.as_of_month = s.as_of_month and r.region_code = s.region_code
