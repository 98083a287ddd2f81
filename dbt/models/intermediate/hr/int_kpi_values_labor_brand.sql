-- Long-format KPI values of the labour-brand family (SPEC §2).
--   labor_brand_employment_growth  N(Y,M) ÷ N(Y-1,M) − 1, where N(snapshot) = distinct 脱贫人口 of that
--                                  snapshot who are labour-brand members (joined_on <= that
--                                  snapshot's month end) and employed (务工时间 > 0) in it, each in
--                                  their county of that snapshot.
--   numerator = N(Y,M), denominator = N(Y-1,M); NULL denominator when the same month of Y-1 was not
--   loaded; actual NULL (no_data) when the denominator is NULL or 0.
-- Facts: marts.fct_labor_brand_member.
with spine as (
    select * from {{ ref('int_snapshot_regions_crossed') }}
),

measures as (
    select * from {{ ref('int_members_hr_rolled_up') }}
),

joined as (
    select
        s.as_of_month,
        s.region_code,
        coalesce(cur.labor_brand_employed, 0) as employed_now,
        case when s.same_month_prior_year is not null then coalesce(prior.labor_brand_employed, 0) end
                                              as employed_prior_year
    from spine as s
    left join measures as cur
        on cur.as_of_month = s.as_of_month and cur.region_code = s.region_code
    left join measures as prior
        on prior.as_of_month = s.same_month_prior_year and prior.region_code = s.region_code
)

select
    as_of_month,
    region_code,
    'labor_brand_employment_growth'                       as kpi_code,
    cast(employed_now as {{ type_double() }})             as numerator,
    cast(employed_prior_year as {{ type_double() }})      as denominator,
    {{ safe_ratio('employed_now', 'employed_prior_year') }} - 1 as actual_value
from joined
