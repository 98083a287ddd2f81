-- One row per ledger year × project (latest ledger state), with its own relief ratio and rule
-- (SPEC §2): ratio = 劳务报酬发放金额 ÷ 中央资金; required 0.30 for 中央预算内投资, 0.20 for
-- 中央财政衔接推进乡村振兴补助资金, none for other funds. is_compliant is NULL when there is no rule
-- or the ratio cannot be computed (中央资金 missing or 0).
with projects as (
    select * from {{ ref('stg_relief__projects') }}
),

ruled as (
    select
        p.*,
        case p.fund_source
            when '中央预算内投资' then cast(0.30 as {{ type_double() }})
            when '中央财政衔接推进乡村振兴补助资金' then cast(0.20 as {{ type_double() }})
        end as required_ratio,
        {{ safe_ratio('p.labor_remuneration_wan', 'p.central_funds_wan') }} as remuneration_ratio
    from projects as p
)

select
    r.year,
    r.project_id,
    r.project_name,
    r.county_code,
    coalesce(c.prefecture_code, r.prefecture_code) as prefecture_code,
    coalesce(r.county_code, c.prefecture_code, r.prefecture_code, '{{ var("province_code") }}') as leaf_region_code,
    r.fund_source,
    r.central_funds_wan,
    r.labor_remuneration_wan,
    r.remuneration_ratio,
    r.required_ratio,
    case
        when r.required_ratio is null or r.remuneration_ratio is null then null
        else r.remuneration_ratio >= r.required_ratio
    end as is_compliant,
    r.report_file,
    r.restatement_count
from ruled as r
left join {{ ref('yunnan_counties') }} as c
    on c.county_code = r.county_code
