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
  Incremental by snapshot month (issue 12): only the snapshots S to build are computed, and the
  compared sides read what earlier snapshots left behind, not their person rows again:
    prior_year_end         E's int_kpi_month_cells (people not out of county in E: returnee 否) and
                           int_members_year_end_out_of_county (people out of county in E, joined to S's
                           people for 返乡回流) — the one per-person model, narrow, built once per E
    march, same_month_prior_year (persons)
                           int_kpi_month_cells of that snapshot; these sides feed no by_group KPI
                           (q1_progress, labor_brand_employment_growth), so they are not split by
                           returnee_group (NULL: counted in the region totals, in no returnee group)
    same_month_prior_year (households)
                           the 脱贫户 of that one snapshot at household grain (their wage income is
                           compared household by household's label of S, wage_income_per_capita_growth
                           is by_group)
  Measures that are not about a person or household of P (relief projects, villages, subsidies,
  rural craftsmen) have no group labels; int_kpi_measures_rolled_up adds them to the region totals.
-#}
{{ by_month_config() }}
with snapshots as (
    select as_of_month, prior_year_end_month, same_month_prior_year, march_month
    from {{ ref('int_snapshots_listed') }}
    where {{ in_rebuild('as_of_month') }}
),

counties as (
    select region_code, is_former_poverty_county, is_key_assistance_county
    from {{ ref('int_regions_listed') }}
    where region_level = 'county'
),

-- the 脱贫户 and 一般农户 of S, and of S's month of Y-1 (wage income compared household by household)
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
    where {{ in_rebuild_or_year_before('h.as_of_month') }}
      and (h.as_of_month in (select as_of_month from snapshots)
           or h.as_of_month in (select same_month_prior_year from snapshots))
),

-- the people of S (person rows of the snapshots being built only)
members as (
    {{ kpi_members() }}
),

year_end_out_of_county as (
    select * from {{ ref('int_members_year_end_out_of_county') }}
    where as_of_month in (select prior_year_end_month from snapshots)
),

cells as (
    select * from {{ ref('int_kpi_month_cells') }}
    where as_of_month in (select prior_year_end_month from snapshots)
       or as_of_month in (select march_month from snapshots)
       or as_of_month in (select same_month_prior_year from snapshots)
),

-- 返乡回流 (macro has_returned) of the people of P and of every household type out of county at S's
-- prior year-end E, judged against S: 未知 for those no longer in S's export. Narrow (S's side is read
-- from int_members_classified, not from `members`): the one join of S's people to E's, which
-- current_measures, household_returnee and the prior year-end side read. Everyone else of S is 返乡回流
-- 否 (未知 when Y-1 has no snapshot).
year_end_judged as (
    select
        s.as_of_month as scored_month,
        y.person_key,
        y.is_poverty_population,
        y.leaf_region_code,
        y.key_assistance_group,
        y.relocated_group,
        y.category_group,
        m.household_key,
        case
            when m.person_key is null then '未知'
            when {{ has_returned('true', 'm.is_employed', 'm.work_region') }} then '是'
            else '否'
        end as returnee_group
    from snapshots as s
    inner join year_end_out_of_county as y
        on y.as_of_month = s.prior_year_end_month
    left join (
        select as_of_month, person_key, household_key, is_employed, work_region
        from {{ ref('int_members_classified') }}
        where {{ in_rebuild('as_of_month') }}
    ) as m
        on m.as_of_month = s.as_of_month and m.person_key = y.person_key
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
    inner join (
        select as_of_month, household_key
        from {{ ref('int_households_deduplicated') }}
        where {{ in_rebuild('as_of_month') }}
    ) as h
        on h.as_of_month = s.as_of_month
    left join (
        select distinct scored_month, household_key from year_end_judged where returnee_group = '是'
    ) as r
        on r.scored_month = s.as_of_month and r.household_key = h.household_key
),

-- S's people of P with their returnee_group, aggregated. `members` is read here only: DuckDB
-- materializes a CTE that is read more than once, and these are every person row of S. Materialized
-- itself (a few hundred rows) so that its joins, whose hash tables hold every person of S, run before
-- the household side's instead of beside them: side by side they ran out of DuckDB's 1.5 GB at
-- province scale (9.2M members).
current_measures as materialized (
    select
        o.as_of_month,
        o.leaf_region_code,
        o.key_assistance_group,
        o.relocated_group,
        o.category_group,
        case
            when s.prior_year_end_month is null then '未知'
            else coalesce(j.returnee_group, '否')
        end                                                                                    as returnee_group,
        count(*)                                                                               as population_p,
        sum(case when o.is_employed then 1 else 0 end)                                         as employed,
        sum(case when o.is_employed then o.months_worked else 0 end)                           as employed_months_worked,
        sum(case when o.is_out_of_province then 1 else 0 end)                                  as employed_out_of_province,
        sum(case when o.is_out_of_county then 1 else 0 end)                                    as employed_out_of_county,
        sum(case when o.is_out_of_county and o.is_organised then 1 else 0 end)                 as employed_out_of_county_organised,
        sum(case when o.is_yulu_graduate_of_year then 1 else 0 end)                            as yulu_graduates,
        sum(case when o.is_yulu_graduate_of_year and o.is_employed then 1 else 0 end)          as yulu_graduates_employed,
        -- 就地就近 (SPEC §2.3): employed working 县内 or 县外省内
        sum(case when o.work_region in ('县内', '县外省内') then 1 else 0 end)                 as local_employed,
        sum(case when o.work_region in ('县内', '县外省内') then o.months_worked else 0 end)   as local_months_worked,
        sum(case when o.is_trained then 1 else 0 end)                                          as trained,
        sum(case when o.is_trained and o.has_certificate_of_year then 1 else 0 end)            as trained_certified,
        sum(case when o.is_trained and o.is_employed then 1 else 0 end)                        as trained_employed,
        sum(case when o.holds_post_in_year then 1 else 0 end)                                  as post_holders_in_year,
        sum(case when o.held_post_prior_year then 1 else 0 end)                                as post_holders_prior_year,
        sum(case when o.held_post_prior_year_to_date then 1 else 0 end)                        as post_holders_prior_year_to_date,
        sum(case when o.is_labor_brand_member and o.is_employed then 1 else 0 end)             as labor_brand_employed,
        sum(case when o.is_willing_unemployed then 1 else 0 end)                               as willing_unemployed,
        sum(case when o.is_willing_unemployed and o.received_131_services then 1 else 0 end)   as willing_unemployed_served_131
    from snapshots as s
    inner join members as o
        on o.as_of_month = s.as_of_month
    left join year_end_judged as j
        on j.scored_month = o.as_of_month and j.person_key = o.person_key
    where o.is_poverty_population
    group by 1, 2, 3, 4, 5, 6
),

-- the compared sides, one row per S × leaf region × labels observed there (returnee as above)
compared_sides as (
    -- prior year-end E, people not out of county in E: 返乡回流 否
    select s.as_of_month, c.leaf_region_code, c.key_assistance_group, c.relocated_group, c.category_group,
           '否' as returnee_group, c.employed_not_out_of_county as employed_prior_year_end,
           0 as employed_march, 0 as labor_brand_employed_prior_year, 1 as group_observed
    from snapshots as s
    inner join cells as c
        on c.as_of_month = s.prior_year_end_month
    where c.population_not_out_of_county > 0
    union all
    -- prior year-end E, people of P out of county in E (all employed), judged against S
    select scored_month, leaf_region_code, key_assistance_group, relocated_group, category_group,
           returnee_group, 1, 0, 0, 1
    from year_end_judged
    where is_poverty_population
    union all
    -- the March of S's year (q1_progress): not split by returnee_group
    select s.as_of_month, c.leaf_region_code, c.key_assistance_group, c.relocated_group, c.category_group,
           null, 0, c.employed, 0, 0
    from snapshots as s
    inner join cells as c
        on c.as_of_month = s.march_month
    union all
    -- the same month of Y-1 (labour brands): not split by returnee_group
    select s.as_of_month, c.leaf_region_code, c.key_assistance_group, c.relocated_group, c.category_group,
           null, 0, 0, c.labor_brand_employed, 0
    from snapshots as s
    inner join cells as c
        on c.as_of_month = s.same_month_prior_year
),

compared_measures as (
    select
        as_of_month, leaf_region_code, key_assistance_group, relocated_group, category_group, returnee_group,
        sum(employed_prior_year_end)         as employed_prior_year_end,
        sum(employed_march)                  as employed_march,
        sum(labor_brand_employed_prior_year) as labor_brand_employed_prior_year,
        max(group_observed)                  as group_observed
    from compared_sides
    group by 1, 2, 3, 4, 5, 6
),

person_measures as (
    select
        coalesce(c.as_of_month, p.as_of_month)                   as as_of_month,
        coalesce(c.leaf_region_code, p.leaf_region_code)         as leaf_region_code,
        coalesce(c.key_assistance_group, p.key_assistance_group) as key_assistance_group,
        coalesce(c.relocated_group, p.relocated_group)           as relocated_group,
        coalesce(c.category_group, p.category_group)             as category_group,
        case when c.as_of_month is not null then c.returnee_group else p.returnee_group end as returnee_group,
        {%- for col in ['population_p', 'employed', 'employed_months_worked', 'employed_out_of_province',
                        'employed_out_of_county', 'employed_out_of_county_organised', 'yulu_graduates',
                        'yulu_graduates_employed', 'local_employed', 'local_months_worked', 'trained',
                        'trained_certified', 'trained_employed', 'post_holders_in_year', 'post_holders_prior_year',
                        'post_holders_prior_year_to_date', 'labor_brand_employed', 'willing_unemployed',
                        'willing_unemployed_served_131'] %}
        coalesce(c.{{ col }}, 0) as {{ col }},
        {%- endfor %}
        coalesce(p.employed_prior_year_end, 0)                   as employed_prior_year_end,
        coalesce(p.employed_march, 0)                            as employed_march,
        coalesce(p.labor_brand_employed_prior_year, 0)           as labor_brand_employed_prior_year,
        case when c.as_of_month is not null then 1 else p.group_observed end as group_observed
    from current_measures as c
    full outer join compared_measures as p
        on p.as_of_month = c.as_of_month and p.leaf_region_code = c.leaf_region_code
        and p.key_assistance_group = c.key_assistance_group and p.relocated_group = c.relocated_group
        and p.category_group = c.category_group and p.returnee_group = c.returnee_group
),

-- the households of S and of S's month of Y-1, read in one pass
observed_months as (
    select as_of_month as scored_month, as_of_month as observed_month, 'current' as side
    from snapshots
    union all
    select as_of_month, same_month_prior_year, 'same_month_prior_year'
    from snapshots
    where same_month_prior_year is not null
),

household_observations as (
    select o.scored_month, o.side, h.*
    from observed_months as o
    inner join households as h on h.as_of_month = o.observed_month
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
