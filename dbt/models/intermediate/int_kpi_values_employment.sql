-- Long-format KPI values of the employment family (SPEC §2), one row per
-- snapshot × region × kpi_code, on the full spine (missing measures read as 0 when the compared
-- snapshot exists, NULL when it does not). Columns shared by every int_kpi_values_<family>:
--   as_of_month, region_code, kpi_code, numerator, denominator, actual_value
with spine as (
    select * from {{ ref('int_snapshot_regions_crossed') }}
),

measures as (
    select * from {{ ref('int_members_rolled_up') }}
),

joined as (
    select
        s.as_of_month,
        s.region_code,
        s.month,
        s.prior_year_end_month,
        s.march_month,
        coalesce(cur.employed, 0)                          as employed,
        coalesce(cur.employed_months_worked, 0)            as employed_months_worked,
        coalesce(cur.employed_out_of_province, 0)          as employed_out_of_province,
        coalesce(cur.employed_out_of_county, 0)            as employed_out_of_county,
        coalesce(cur.employed_out_of_county_organised, 0)  as employed_out_of_county_organised,
        coalesce(cur.yulu_graduates, 0)                    as yulu_graduates,
        coalesce(cur.yulu_graduates_employed, 0)           as yulu_graduates_employed,
        -- prior year-end = the latest snapshot of Y-1; NULL when Y-1 has no snapshot
        case when s.prior_year_end_month is not null then coalesce(prior_end.employed, 0) end as employed_prior_year_end,
        -- March of Y, only from the March snapshot on
        case when s.march_month is not null then coalesce(march.employed, 0) end            as employed_march
    from spine as s
    left join measures as cur
        on cur.as_of_month = s.as_of_month and cur.region_code = s.region_code
    left join measures as prior_end
        on prior_end.as_of_month = s.prior_year_end_month and prior_end.region_code = s.region_code
    left join measures as march
        on march.as_of_month = s.march_month and march.region_code = s.region_code
),

values_long as (
    select as_of_month, region_code, 'employment_vs_prior_year' as kpi_code,
           cast(employed as {{ type_double() }}) as numerator, cast(employed_prior_year_end as {{ type_double() }}) as denominator
    from joined
    union all
    select as_of_month, region_code, 'q1_progress',
           cast(employed_march as {{ type_double() }}),
           cast(case when employed_march is not null then employed_prior_year_end end as {{ type_double() }})
    from joined
    union all
    select as_of_month, region_code, 'avg_employment_months',
           cast(employed_months_worked as {{ type_double() }}), cast(employed as {{ type_double() }})
    from joined
    union all
    select as_of_month, region_code, 'out_of_province_share',
           cast(employed_out_of_province as {{ type_double() }}), cast(employed as {{ type_double() }})
    from joined
    union all
    select as_of_month, region_code, 'organized_outflow_share',
           cast(employed_out_of_county_organised as {{ type_double() }}), cast(employed_out_of_county as {{ type_double() }})
    from joined
    union all
    select as_of_month, region_code, 'yulu_graduate_employment_rate',
           cast(yulu_graduates_employed as {{ type_double() }}), cast(yulu_graduates as {{ type_double() }})
    from joined
)

select
    as_of_month,
    region_code,
    kpi_code,
    numerator,
    denominator,
    case when numerator is null then null else {{ safe_ratio('numerator', 'denominator') }} end as actual_value
from values_long
