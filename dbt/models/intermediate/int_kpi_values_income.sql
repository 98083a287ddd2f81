-- Long-format KPI values of the income family: wage_income_per_capita_growth (SPEC §2).
--   numerator   = PC(Y,M)   = Σ 工资性收入 ÷ Σ 家庭人口数 over 脱贫户 of the snapshot
--   denominator = PC(Y-1,M) = the same for the snapshot of the same month of Y-1
--   actual      = numerator ÷ denominator − 1  (NULL when Y-1,M was not loaded or PC(Y-1,M) is 0/NULL)
with spine as (
    select * from {{ ref('int_snapshot_regions_crossed') }}
),

measures as (
    select * from {{ ref('int_households_rolled_up') }}
),

per_capita as (
    select
        s.as_of_month,
        s.region_code,
        {{ safe_ratio('cur.wage_income_yuan', 'cur.household_members') }}     as pc_current,
        {{ safe_ratio('prior.wage_income_yuan', 'prior.household_members') }} as pc_prior
    from spine as s
    left join measures as cur
        on cur.as_of_month = s.as_of_month and cur.region_code = s.region_code
    left join measures as prior
        on prior.as_of_month = s.same_month_prior_year and prior.region_code = s.region_code
)

select
    as_of_month,
    region_code,
    'wage_income_per_capita_growth' as kpi_code,
    pc_current                      as numerator,
    pc_prior                        as denominator,
    case when pc_current is null then null
         else {{ safe_ratio('pc_current', 'pc_prior') }} - 1 end as actual_value
from per_capita
