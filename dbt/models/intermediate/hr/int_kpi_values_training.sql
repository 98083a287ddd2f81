-- Long-format KPI values of the training family (SPEC §2), on the full snapshot × region spine.
--   trained_persons               numerator = distinct 脱贫人口 (population P of the snapshot, placed in
--                                 their county of the snapshot) with a completed training whose
--                                 end_date is in Y and <= the snapshot's month end; denominator NULL;
--                                 actual = the count (a count, not a ratio). NULL (no_data) where the
--                                 region has no member of P in the snapshot. Target province only.
--   certified_rate                trained persons holding a certificate issued in Y (<= month end)
--                                 ÷ trained persons
--   post_training_employment_rate trained persons who are employed (务工时间 > 0 in the snapshot)
--                                 ÷ trained persons
-- Facts: marts.fct_training, marts.fct_skill_certificate (via int_members_hr_linked).
with spine as (
    select * from {{ ref('int_snapshot_regions_crossed') }}
),

joined as (
    select
        s.as_of_month,
        s.region_code,
        coalesce(r.population_p, 0)       as population_p,
        coalesce(r.trained, 0)            as trained,
        coalesce(r.trained_certified, 0)  as trained_certified,
        coalesce(r.trained_employed, 0)   as trained_employed
    from spine as s
    left join {{ ref('int_members_hr_rolled_up') }} as r
        on r.as_of_month = s.as_of_month and r.region_code = s.region_code
),

values_long as (
    select as_of_month, region_code, 'trained_persons' as kpi_code,
           cast(trained as {{ type_double() }}) as numerator,
           cast(null as {{ type_double() }})    as denominator,
           case when population_p > 0 then cast(trained as {{ type_double() }}) end as actual_value
    from joined
    union all
    select as_of_month, region_code, 'certified_rate',
           cast(trained_certified as {{ type_double() }}), cast(trained as {{ type_double() }}),
           {{ safe_ratio('trained_certified', 'trained') }}
    from joined
    union all
    select as_of_month, region_code, 'post_training_employment_rate',
           cast(trained_employed as {{ type_double() }}), cast(trained as {{ type_double() }}),
           {{ safe_ratio('trained_employed', 'trained') }}
    from joined
)

select as_of_month, region_code, kpi_code, numerator, denominator, actual_value
from values_long
