{#-
  The KPI measures at their finest grain: one row per scored snapshot S × leaf region (county, else
  prefecture, else province) × key-group labels (key_assistance_group, relocated_group, category_group,
  returnee_group), with additive counts and sums. Both marts.kpi_scorecard and
  marts.kpi_scorecard_by_group are aggregated from these rows (int_kpi_measures_rolled_up: region
  ancestors × group dimension), so within a dimension the groups add up to the scorecard by
  construction (tested: groups_add_up).

  Every measure counts population P (脱贫人口, SPEC §2) or 脱贫户 only. Sides (which snapshot a row was
  observed in, all scored for S):
    current                S itself: persons of P (with their HR status as of S, int_members_hr_linked)
                           and 脱贫户 (wage income)
    prior_year_end         the latest snapshot of Y-1 (employed_prior_year_end)
    march                  the March snapshot of Y, from the March snapshot on (employed_march)
    same_month_prior_year  the snapshot of the same month of Y-1 (labour-brand employed, wage income)
  Each person / household is placed in its own leaf region and carries its own county / household
  labels in the snapshot it was observed in (macro key_group_labels); returnee_group is judged for S
  (a cohort label, the same on every side):
    returnee_group  返乡回流 (macro has_returned) against S's prior year-end E:
                    是  out of county in E, and in S not employed or working 县内
                    否  everyone else who can be judged (incl. people new in S)
                    未知 Y-1 has no snapshot, or out of county in E but no longer in S's export
                    A household is 是 when one of its members in S is; 未知 when Y-1 has no snapshot
                    or the household is no longer in S.
  Measures that are not about a person or household of P (relief projects, villages, subsidies,
  rural craftsmen) have no group labels; int_kpi_measures_rolled_up adds them to the region totals.
-#}
with snapshots as (
    select as_of_month, prior_year_end_month, same_month_prior_year, march_month
    from {{ ref('int_snapshots_listed') }}
),

counties as (
    select region_code, is_former_poverty_county, is_key_assistance_county
    from {{ ref('int_regions_listed') }}
    where region_level = 'county'
),

households as (
    select
        h.as_of_month,
        h.household_key,
        coalesce(h.county_code, h.prefecture_code, '{{ var("province_code") }}') as leaf_region_code,
        h.is_poverty_household,
        h.wage_income_yuan,
        h.household_size,
        {{ key_group_labels('c', 'h') }}
    from {{ ref('int_households_deduplicated') }} as h
    left join counties as c
        on c.region_code = h.county_code
),

members as (
    select
        m.as_of_month,
        m.person_key,
        m.household_key,
        m.leaf_region_code,
        m.is_poverty_population,
        m.is_employed,
        m.months_worked,
        m.work_region,
        m.is_out_of_county,
        m.is_out_of_province,
        m.is_organised,
        m.is_yulu_graduate_of_year,
        hr.is_trained,
        hr.has_certificate_of_year,
        hr.holds_post_in_year,
        hr.held_post_prior_year,
        hr.held_post_prior_year_to_date,
        hr.is_labor_brand_member,
        hr.is_willing_unemployed,
        hr.received_131_services,
        {{ key_group_labels('c', 'h') }}
    from {{ ref('int_members_classified') }} as m
    left join {{ ref('int_members_hr_linked') }} as hr
        on hr.as_of_month = m.as_of_month and hr.person_key = m.person_key
    left join {{ ref('int_households_deduplicated') }} as h
        on h.as_of_month = m.as_of_month and h.household_key = m.household_key
    left join counties as c
        on c.region_code = m.county_code
),

-- 返乡回流 per scored snapshot S × person, over the people of S and of its prior year-end E
returnee as (
    select
        coalesce(cur.scored_month, prior.scored_month)                  as scored_month,
        coalesce(cur.person_key, prior.person_key)                      as person_key,
        cur.household_key,
        case
            when s.prior_year_end_month is null then '未知'
            when coalesce(prior.is_out_of_county, false) = false then '否'
            when cur.person_key is null then '未知'
            when {{ has_returned('prior.is_out_of_county', 'cur.is_employed', 'cur.work_region') }} then '是'
            else '否'
        end                                                             as returnee_group
    from (
        select s.as_of_month as scored_month, m.person_key, m.household_key, m.is_employed, m.work_region
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

-- a household of S is a returnee household when one of its members in S is a returnee
household_returnee as (
    select
        s.as_of_month as scored_month,
        h.household_key,
        case
            when s.prior_year_end_month is null then '未知'
            when r.household_key is not null then '是'
            else '否'
        end as returnee_group
    from snapshots as s
    inner join households as h
        on h.as_of_month = s.as_of_month
    left join (
        select distinct scored_month, household_key from returnee where returnee_group = '是'
    ) as r
        on r.scored_month = s.as_of_month and r.household_key = h.household_key
),

person_observations as (
    select s.as_of_month as scored_month, 'current' as side, m.*
    from snapshots as s
    inner join members as m on m.as_of_month = s.as_of_month
    union all
    select s.as_of_month, 'prior_year_end', m.*
    from snapshots as s
    inner join members as m on m.as_of_month = s.prior_year_end_month
    union all
    select s.as_of_month, 'march', m.*
    from snapshots as s
    inner join members as m on m.as_of_month = s.march_month
    union all
    select s.as_of_month, 'same_month_prior_year', m.*
    from snapshots as s
    inner join members as m on m.as_of_month = s.same_month_prior_year
),

household_observations as (
    select s.as_of_month as scored_month, 'current' as side, h.*
    from snapshots as s
    inner join households as h on h.as_of_month = s.as_of_month
    union all
    select s.as_of_month, 'same_month_prior_year', h.*
    from snapshots as s
    inner join households as h on h.as_of_month = s.same_month_prior_year
),

person_measures as (
    {%- set cur = "o.side = 'current'" %}
    select
        o.scored_month                                                                         as as_of_month,
        o.leaf_region_code,
        o.key_assistance_group,
        o.relocated_group,
        o.category_group,
        coalesce(r.returnee_group, '未知')                                                      as returnee_group,
        sum(case when {{ cur }} then 1 else 0 end)                                             as population_p,
        sum(case when {{ cur }} and o.is_employed then 1 else 0 end)                           as employed,
        sum(case when {{ cur }} and o.is_employed then o.months_worked else 0 end)             as employed_months_worked,
        sum(case when {{ cur }} and o.is_out_of_province then 1 else 0 end)                    as employed_out_of_province,
        sum(case when {{ cur }} and o.is_out_of_county then 1 else 0 end)                      as employed_out_of_county,
        sum(case when {{ cur }} and o.is_out_of_county and o.is_organised then 1 else 0 end)   as employed_out_of_county_organised,
        sum(case when {{ cur }} and o.is_yulu_graduate_of_year then 1 else 0 end)              as yulu_graduates,
        sum(case when {{ cur }} and o.is_yulu_graduate_of_year and o.is_employed then 1 else 0 end) as yulu_graduates_employed,
        -- 就地就近 (SPEC §2.3): employed working 县内 or 县外省内
        sum(case when {{ cur }} and o.work_region in ('县内', '县外省内') then 1 else 0 end)    as local_employed,
        sum(case when {{ cur }} and o.work_region in ('县内', '县外省内') then o.months_worked else 0 end) as local_months_worked,
        sum(case when {{ cur }} and o.is_trained then 1 else 0 end)                            as trained,
        sum(case when {{ cur }} and o.is_trained and o.has_certificate_of_year then 1 else 0 end) as trained_certified,
        sum(case when {{ cur }} and o.is_trained and o.is_employed then 1 else 0 end)          as trained_employed,
        sum(case when {{ cur }} and o.holds_post_in_year then 1 else 0 end)                    as post_holders_in_year,
        sum(case when {{ cur }} and o.held_post_prior_year then 1 else 0 end)                  as post_holders_prior_year,
        sum(case when {{ cur }} and o.held_post_prior_year_to_date then 1 else 0 end)          as post_holders_prior_year_to_date,
        sum(case when {{ cur }} and o.is_labor_brand_member and o.is_employed then 1 else 0 end) as labor_brand_employed,
        sum(case when {{ cur }} and o.is_willing_unemployed then 1 else 0 end)                 as willing_unemployed,
        sum(case when {{ cur }} and o.is_willing_unemployed and o.received_131_services then 1 else 0 end)
                                                                                               as willing_unemployed_served_131,
        sum(case when o.side = 'prior_year_end' and o.is_employed then 1 else 0 end)           as employed_prior_year_end,
        sum(case when o.side = 'march' and o.is_employed then 1 else 0 end)                    as employed_march,
        sum(case when o.side = 'same_month_prior_year' and o.is_labor_brand_member and o.is_employed then 1 else 0 end)
                                                                                               as labor_brand_employed_prior_year,
        -- the sides kpi_scorecard_by_group reads (a group seen only in March or in Y-1's same month is no group of S)
        max(case when o.side in ('current', 'prior_year_end') then 1 else 0 end)               as group_observed
    from person_observations as o
    left join returnee as r
        on r.scored_month = o.scored_month and r.person_key = o.person_key
    where o.is_poverty_population
    group by 1, 2, 3, 4, 5, 6
),

household_measures as (
    select
        o.scored_month                                                                  as as_of_month,
        o.leaf_region_code,
        o.key_assistance_group,
        o.relocated_group,
        o.category_group,
        coalesce(r.returnee_group, '未知')                                               as returnee_group,
        sum(case when o.side = 'current' then 1 else 0 end)                             as households,
        sum(case when o.side = 'current' then o.wage_income_yuan end)                   as wage_income_yuan,
        sum(case when o.side = 'current' then o.household_size end)                     as household_members,
        sum(case when o.side = 'same_month_prior_year' then o.wage_income_yuan end)     as prior_wage_income_yuan,
        sum(case when o.side = 'same_month_prior_year' then o.household_size end)       as prior_household_members,
        1                                                                               as group_observed
    from household_observations as o
    left join household_returnee as r
        on r.scored_month = o.scored_month and r.household_key = o.household_key
    where o.is_poverty_household
    group by 1, 2, 3, 4, 5, 6
)

select
    coalesce(p.as_of_month, h.as_of_month) as as_of_month,
    coalesce(p.leaf_region_code, h.leaf_region_code) as leaf_region_code,
    coalesce(p.key_assistance_group, h.key_assistance_group) as key_assistance_group,
    coalesce(p.relocated_group, h.relocated_group) as relocated_group,
    coalesce(p.category_group, h.category_group) as category_group,
    coalesce(p.returnee_group, h.returnee_group) as returnee_group,
    p.population_p,
    p.employed,
    p.employed_months_worked,
    p.employed_out_of_province,
    p.employed_out_of_county,
    p.employed_out_of_county_organised,
    p.yulu_graduates,
    p.yulu_graduates_employed,
    p.local_employed,
    p.local_months_worked,
    p.trained,
    p.trained_certified,
    p.trained_employed,
    p.post_holders_in_year,
    p.post_holders_prior_year,
    p.post_holders_prior_year_to_date,
    p.labor_brand_employed,
    p.willing_unemployed,
    p.willing_unemployed_served_131,
    p.employed_prior_year_end,
    p.employed_march,
    p.labor_brand_employed_prior_year,
    h.households,
    h.wage_income_yuan,
    h.household_members,
    h.prior_wage_income_yuan,
    h.prior_household_members,
    greatest(coalesce(p.group_observed, 0), coalesce(h.group_observed, 0)) as group_observed
from person_measures as p
full outer join household_measures as h
    on h.as_of_month = p.as_of_month and h.leaf_region_code = p.leaf_region_code and h.key_assistance_group = p.key_assistance_group and h.relocated_group = p.relocated_group and h.category_group = p.category_group and h.returnee_group = p.returnee_group
