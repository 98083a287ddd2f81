{#-
  Employment observations of 脱贫人口 for the key-group breakdown (kpi_scorecard_by_group), one row per
  scored snapshot S × side × leaf region × group combination, with the employment measures:
    side 'current'          members of population P in S
    side 'prior_year_end'   members of population P in the latest snapshot of Y-1 (the denominator of
                            employment_vs_prior_year); absent when Y-1 has no snapshot
  Groups (SPEC / issue 3):
    key_assistance_group  国家乡村振兴重点帮扶县 of the person's county in that snapshot: 是 (flag 1),
                          否 (not a former poverty county: key assistance counties were designated only
                          among former poverty counties), 未知 (former poverty county with a blank
                          flag, or county unknown). Unknown is never turned into 否.
    relocated_group       易地扶贫搬迁户 of the household in that snapshot: 是 / 否 / 未知 (blank)
    category_group        监测对象类别 of the household in that snapshot; blank -> 非监测对象
    returnee_group        返乡回流, judged for the scored snapshot S against its prior year-end E:
                          是  employed out of county (县外省内/省外/国外) in E, and in S not employed or
                              working 县内
                          否  everyone else who can be judged (incl. people new in S)
                          未知 Y-1 has no snapshot, or out of county in E but no longer in S's export
                          The same label is used on both sides (a cohort), so returnees' prior
                          year-end employment is the denominator of their employment_vs_prior_year.
-#}
with snapshots as (
    select as_of_month, prior_year_end_month from {{ ref('int_snapshots_listed') }}
),

counties as (
    select region_code, is_former_poverty_county, is_key_assistance_county
    from {{ ref('int_regions_listed') }}
    where region_level = 'county'
),

members as (
    select
        m.as_of_month,
        m.person_key,
        m.leaf_region_code,
        m.is_poverty_population,
        m.is_employed,
        m.months_worked,
        m.work_region,
        m.is_out_of_county,
        m.is_out_of_province,
        m.is_organised,
        case
            when c.is_key_assistance_county then '是'
            when c.is_key_assistance_county = false or c.is_former_poverty_county = false then '否'
            else '未知'
        end                                                             as key_assistance_group,
        case h.is_relocated when true then '是' when false then '否' else '未知' end as relocated_group,
        coalesce(nullif(trim(h.monitoring_category), ''), '非监测对象')   as category_group
    from {{ ref('int_members_classified') }} as m
    left join {{ ref('int_households_deduplicated') }} as h
        on h.as_of_month = m.as_of_month and h.household_key = m.household_key
    left join counties as c
        on c.region_code = m.county_code
),

-- returnee label per scored snapshot × person, over the people of S and of its prior year-end E
returnee as (
    select
        coalesce(cur.scored_month, prior.scored_month)                  as scored_month,
        coalesce(cur.person_key, prior.person_key)                      as person_key,
        case
            when s.prior_year_end_month is null then '未知'
            when coalesce(prior.is_out_of_county, false) = false then '否'
            when cur.person_key is null then '未知'
            when not cur.is_employed or cur.work_region = '县内' then '是'
            else '否'
        end                                                             as returnee_group
    from (
        select s.as_of_month as scored_month, m.person_key, m.is_employed, m.work_region
        from snapshots as s
        inner join members as m on m.as_of_month = s.as_of_month
    ) as cur
    full outer join (
        select s.as_of_month as scored_month, m.person_key, m.is_out_of_county
        from snapshots as s
        inner join members as m on m.as_of_month = s.prior_year_end_month
    ) as prior
        on prior.scored_month = cur.scored_month and prior.person_key = cur.person_key
    inner join snapshots as s
        on s.as_of_month = coalesce(cur.scored_month, prior.scored_month)
),

observations as (
    select s.as_of_month as scored_month, 'current' as side, m.*
    from snapshots as s
    inner join members as m on m.as_of_month = s.as_of_month
    where m.is_poverty_population
    union all
    select s.as_of_month, 'prior_year_end', m.*
    from snapshots as s
    inner join members as m on m.as_of_month = s.prior_year_end_month
    where m.is_poverty_population
)

select
    o.scored_month                                                        as as_of_month,
    o.side,
    o.leaf_region_code,
    o.key_assistance_group,
    o.relocated_group,
    o.category_group,
    coalesce(r.returnee_group, '未知')                                     as returnee_group,
    count(*)                                                              as persons,
    sum(case when o.is_employed then 1 else 0 end)                        as employed,
    sum(case when o.is_employed then o.months_worked else 0 end)          as employed_months_worked,
    sum(case when o.is_out_of_province then 1 else 0 end)                 as employed_out_of_province,
    sum(case when o.is_out_of_county then 1 else 0 end)                   as employed_out_of_county,
    sum(case when o.is_out_of_county and o.is_organised then 1 else 0 end) as employed_out_of_county_organised
from observations as o
left join returnee as r
    on r.scored_month = o.scored_month and r.person_key = o.person_key
group by 1, 2, 3, 4, 5, 6, 7
