-- Long-format KPI values of the local-employment family (就地就近, SPEC §2.3), on the full snapshot ×
-- region spine. Local workers = employed 脱贫人口 (population P) whose work region is 县内 or 县外省内.
--   local_employment_count        numerator = local workers; denominator NULL; actual = the count
--                                 (a count, not a ratio), NULL (no_data) where the region has no member
--                                 of P in the snapshot (as trained_persons). No target.
--   local_avg_employment_months   Σ 务工时间（月） of local workers ÷ local workers (target 8.5 as
--                                 avg_employment_months; months are cumulative in Y)
--   local_employment_share        local workers ÷ all employed members of P. No target.
with local_measures as (
    select
        m.as_of_month,
        a.ancestor_code                                                              as region_code,
        count(*)                                                                     as population_p,
        sum(case when m.is_employed then 1 else 0 end)                               as employed,
        sum(case when m.work_region in ('县内', '县外省内') then 1 else 0 end)        as local_employed,
        sum(case when m.work_region in ('县内', '县外省内') then m.months_worked else 0 end) as local_months_worked
    from {{ ref('int_members_classified') }} as m
    inner join {{ ref('int_region_ancestors') }} as a
        on a.descendant_code = m.leaf_region_code
    where m.is_poverty_population
    group by m.as_of_month, a.ancestor_code
),

joined as (
    select
        s.as_of_month,
        s.region_code,
        coalesce(l.population_p, 0)          as population_p,
        coalesce(l.employed, 0)              as employed,
        coalesce(l.local_employed, 0)        as local_employed,
        coalesce(l.local_months_worked, 0)   as local_months_worked
    from {{ ref('int_snapshot_regions_crossed') }} as s
    left join local_measures as l
        on l.as_of_month = s.as_of_month and l.region_code = s.region_code
)

select as_of_month, region_code, 'local_employment_count' as kpi_code,
       cast(local_employed as {{ type_double() }}) as numerator,
       cast(null as {{ type_double() }})           as denominator,
       case when population_p > 0 then cast(local_employed as {{ type_double() }}) end as actual_value
from joined
union all
select as_of_month, region_code, 'local_avg_employment_months',
       cast(local_months_worked as {{ type_double() }}), cast(local_employed as {{ type_double() }}),
       {{ safe_ratio('local_months_worked', 'local_employed') }}
from joined
union all
select as_of_month, region_code, 'local_employment_share',
       cast(local_employed as {{ type_double() }}), cast(employed as {{ type_double() }}),
       {{ safe_ratio('local_employed', 'employed') }}
from joined
