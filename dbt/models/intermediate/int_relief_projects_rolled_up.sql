-- Relief measures per ledger year × region (three levels). Sums only use projects whose 中央资金
-- and 劳务报酬 are both known, so numerator and denominator cover the same projects.
with projects as (
    select * from {{ ref('int_relief_projects_evaluated') }}
)

{% call rolled_up_to_regions('projects as p', 'p.leaf_region_code', ['p.year']) %}
    sum(case when p.fund_source = '中央预算内投资' and p.central_funds_wan is not null
             then p.labor_remuneration_wan end)                              as central_budget_remuneration_wan,
    sum(case when p.fund_source = '中央预算内投资' and p.labor_remuneration_wan is not null
             then p.central_funds_wan end)                                   as central_budget_funds_wan,
    sum(case when p.fund_source = '中央财政衔接推进乡村振兴补助资金' and p.central_funds_wan is not null
             then p.labor_remuneration_wan end)                              as bridging_remuneration_wan,
    sum(case when p.fund_source = '中央财政衔接推进乡村振兴补助资金' and p.labor_remuneration_wan is not null
             then p.central_funds_wan end)                                   as bridging_funds_wan,
    sum(case when p.is_compliant is not null then 1 else 0 end)              as ruled_projects,
    sum(case when p.is_compliant then 1 else 0 end)                          as compliant_projects
{% endcall %}
