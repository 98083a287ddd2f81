{#-
  Wage-income observations of 脱贫户 for the key-group breakdown of wage_income_per_capita_growth, one
  row per scored snapshot S × side × leaf region × group combination:
    side 'current'                 脱贫户 of S
    side 'same_month_prior_year'   脱贫户 of the snapshot of the same month of Y-1 (absent if not loaded)
  key_assistance / relocated / category groups: the household's own values in that snapshot (as in
  int_members_grouped). returnee_group is a household label for S: 是 when at least one member is a
  returnee (int_members_grouped rule), else 否, 未知 when Y-1 has no snapshot; the prior-year side uses
  the same household's label in S (a cohort), 未知 for households no longer in S.
-#}
with snapshots as (
    select as_of_month, prior_year_end_month, same_month_prior_year from {{ ref('int_snapshots_listed') }}
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
        case
            when c.is_key_assistance_county then '是'
            when c.is_key_assistance_county = false or c.is_former_poverty_county = false then '否'
            else '未知'
        end                                                             as key_assistance_group,
        case h.is_relocated when true then '是' when false then '否' else '未知' end as relocated_group,
        coalesce(nullif(trim(h.monitoring_category), ''), '非监测对象')   as category_group
    from {{ ref('int_households_deduplicated') }} as h
    left join counties as c
        on c.region_code = h.county_code
),

-- returnee members of S (same rule as int_members_grouped): out of county at E, now not employed or 县内
returnee_households as (
    select distinct s.as_of_month as scored_month, cur.household_key
    from snapshots as s
    inner join {{ ref('int_members_classified') }} as cur
        on cur.as_of_month = s.as_of_month
    inner join {{ ref('int_members_classified') }} as prior
        on prior.as_of_month = s.prior_year_end_month
        and prior.person_key = cur.person_key
    where prior.is_out_of_county
      and (not cur.is_employed or cur.work_region = '县内')
),

labels as (
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
    left join returnee_households as r
        on r.scored_month = s.as_of_month and r.household_key = h.household_key
),

observations as (
    select s.as_of_month as scored_month, 'current' as side, h.*
    from snapshots as s
    inner join households as h on h.as_of_month = s.as_of_month
    where h.is_poverty_household
    union all
    select s.as_of_month, 'same_month_prior_year', h.*
    from snapshots as s
    inner join households as h on h.as_of_month = s.same_month_prior_year
    where h.is_poverty_household
)

select
    o.scored_month                               as as_of_month,
    o.side,
    o.leaf_region_code,
    o.key_assistance_group,
    o.relocated_group,
    o.category_group,
    coalesce(l.returnee_group, '未知')            as returnee_group,
    count(*)                                     as households,
    sum(o.wage_income_yuan)                      as wage_income_yuan,
    sum(o.household_size)                        as household_members
from observations as o
left join labels as l
    on l.scored_month = o.scored_month and l.household_key = o.household_key
group by 1, 2, 3, 4, 5, 6, 7
