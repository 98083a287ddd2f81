-- Long-format KPI values of the work-for-relief family (SPEC §2). Every snapshot of year Y uses the
-- latest ledger state for year Y (stg_relief__projects), whatever the snapshot month.
--   relief_ratio_central_budget  Σ 劳务报酬 ÷ Σ 中央资金 over 中央预算内投资 projects of Y
--   relief_ratio_bridging_funds  the same over 中央财政衔接推进乡村振兴补助资金 projects of Y
--   relief_project_compliance    projects meeting their own rule ÷ projects with a rule and a ratio
with spine as (
    select * from {{ ref('int_snapshot_regions_crossed') }}
),

joined as (
    select
        s.as_of_month,
        s.region_code,
        coalesce(r.central_budget_remuneration_wan, 0) as central_budget_remuneration_wan,
        coalesce(r.central_budget_funds_wan, 0)        as central_budget_funds_wan,
        coalesce(r.bridging_remuneration_wan, 0)       as bridging_remuneration_wan,
        coalesce(r.bridging_funds_wan, 0)              as bridging_funds_wan,
        coalesce(r.compliant_projects, 0)              as compliant_projects,
        coalesce(r.ruled_projects, 0)                  as ruled_projects
    from spine as s
    left join {{ ref('int_relief_projects_rolled_up') }} as r
        on r.year = s.year and r.region_code = s.region_code
),

values_long as (
    select as_of_month, region_code, 'relief_ratio_central_budget' as kpi_code,
           cast(central_budget_remuneration_wan as {{ type_double() }}) as numerator,
           cast(central_budget_funds_wan as {{ type_double() }})        as denominator
    from joined
    union all
    select as_of_month, region_code, 'relief_ratio_bridging_funds',
           cast(bridging_remuneration_wan as {{ type_double() }}), cast(bridging_funds_wan as {{ type_double() }})
    from joined
    union all
    select as_of_month, region_code, 'relief_project_compliance',
           cast(compliant_projects as {{ type_double() }}), cast(ruled_projects as {{ type_double() }})
    from joined
)

select
    as_of_month,
    region_code,
    kpi_code,
    numerator,
    denominator,
    {{ safe_ratio('numerator', 'denominator') }} as actual_value
from values_long
