{{ by_month_config() }}
-- Rule member_without_household: members (person rows that passed the loader) whose household has no
-- published row in the same snapshot, because that household row was quarantined (unknown 县, a bad
-- 户主证件号码 ...) or the household file of the month was rejected. Their 户类型 is unknown, so they
-- are not 脱贫人口 (outside every KPI) and are left out of fct_employment_duration; this model counts
-- them, one row per snapshot × county that has any, so the rule never hides a person silently.
select
    as_of_month,
    county_code,
    count(*)                                            as members_without_household,
    count(distinct household_key)                       as households_missing
from {{ ref('int_members_classified') }}
where not has_household_row
  and {{ in_rebuild('as_of_month') }}
group by as_of_month, county_code
