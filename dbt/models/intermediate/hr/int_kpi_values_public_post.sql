-- Long-format KPI values of the public welfare post family (SPEC §2).
--   public_post_placements     distinct 脱贫人口 holding a 公益性岗位 at some time in Y up to the
--                              snapshot's month end ÷ distinct 脱贫人口 holding one at some time in
--                              Y-1 (whole year). Both counts are taken over population P of THIS
--                              snapshot, each person in their county of this snapshot (like for
--                              like; the HR platform keeps the history, so Y-1 needs no Y-1
--                              snapshot). Denominator 0 -> no_data.
--   subsidy_on_time_full_rate  post subsidies (subsidy_payment rows) for period months T <= M-1 of Y
--                              of assignments held by a member of P, paid in full and on time
--                              (paid_on <= last day of T+1) ÷ all of them. January: none due ->
--                              no_data.
-- Facts: marts.fct_public_welfare_post, marts.fct_subsidy_payment.
with spine as (
    select * from {{ ref('int_snapshot_regions_crossed') }}
),

joined as (
    select
        s.as_of_month,
        s.region_code,
        coalesce(r.post_holders_in_year, 0)        as post_holders_in_year,
        coalesce(r.post_holders_prior_year, 0)     as post_holders_prior_year,
        coalesce(p.subsidies_due, 0)               as subsidies_due,
        coalesce(p.subsidies_on_time_full, 0)      as subsidies_on_time_full
    from spine as s
    left join {{ ref('int_members_hr_rolled_up') }} as r
        on r.as_of_month = s.as_of_month and r.region_code = s.region_code
    left join {{ ref('int_subsidy_payments_rolled_up') }} as p
        on p.as_of_month = s.as_of_month and p.region_code = s.region_code
),

values_long as (
    select as_of_month, region_code, 'public_post_placements' as kpi_code,
           cast(post_holders_in_year as {{ type_double() }})    as numerator,
           cast(post_holders_prior_year as {{ type_double() }}) as denominator
    from joined
    union all
    select as_of_month, region_code, 'subsidy_on_time_full_rate',
           cast(subsidies_on_time_full as {{ type_double() }}), cast(subsidies_due as {{ type_double() }})
    from joined
)

select as_of_month, region_code, kpi_code, numerator, denominator,
       {{ safe_ratio('numerator', 'denominator') }} as actual_value
from values_long
