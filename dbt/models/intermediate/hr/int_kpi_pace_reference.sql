-- What a prior_year_to_date pace rule (SPEC §2.1, seeds/kpi_targets.csv pace_rule) compares with, per
-- snapshot × region × KPI: the prior-year count up to the same month M (prior_year_to_date) and the
-- prior-year count of the whole year (prior_year, the KPI's own denominator). Only
-- public_post_placements has this rule: distinct 脱贫人口 of this snapshot holding a 公益性岗位 in Y-1
-- up to the last day of month M of Y-1, against those holding one at any time in Y-1. In December the
-- two counts are equal. On the full snapshot × region spine (a region without members: 0 and 0).
with spine as (
    select as_of_month, region_code from {{ ref('int_snapshot_regions_crossed') }}
)

select
    s.as_of_month,
    s.region_code,
    'public_post_placements'                                                         as kpi_code,
    cast(coalesce(r.post_holders_prior_year_to_date, 0) as {{ type_double() }})      as prior_year_to_date,
    cast(coalesce(r.post_holders_prior_year, 0) as {{ type_double() }})              as prior_year
from spine as s
left join {{ ref('int_members_hr_rolled_up') }} as r
    on r.as_of_month = s.as_of_month and r.region_code = s.region_code
