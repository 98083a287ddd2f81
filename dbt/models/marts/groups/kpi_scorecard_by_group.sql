{#-
  Key-group scorecard (issue 3 §2): the employment and income KPIs of SPEC §2 broken down by the groups
  the notice singles out, one row per snapshot × region (province / prefecture / county) × group
  dimension × group value × KPI — complete on that spine (a group without people: no_data).

  group_dimension / group_value (rules in int_members_grouped and int_households_grouped):
    key_assistance_county  国家乡村振兴重点帮扶县      是 / 否 / 未知 (unknown flag stays 未知)
    relocated              易地扶贫搬迁户              是 / 否 / 未知
    monitoring_category    监测对象类别                非监测对象 / 脱贫不稳定户 / 边缘易致贫户 / 突发严重困难户
                                                        (+ any other exported value)
    returnee               返乡回流                    是 / 否 / 未知
  KPIs: each computed exactly as in kpi_scorecard, restricted to the group:
    employment_vs_prior_year       employed in S ÷ employed at the prior year-end
    avg_employment_months          Σ 务工时间 of employed ÷ employed
    out_of_province_share          employed 省外/国外 ÷ employed
    organized_outflow_share        organised out-of-county employed ÷ out-of-county employed
    wage_income_per_capita_growth  PC(S) ÷ PC(same month of Y-1) − 1 (numerator/denominator = the PCs)
  Targets, status and pace: kpi_targets and the kpi_status / kpi_progress_* macros, as in kpi_scorecard. Within a dimension,
  the groups partition population P on each side, so e.g. group numerators sum to the scorecard's.
-#}
{%- set dimensions = [
    ('key_assistance_county', 'key_assistance_group', ['是', '否', '未知']),
    ('relocated', 'relocated_group', ['是', '否', '未知']),
    ('monitoring_category', 'category_group', ['非监测对象', '脱贫不稳定户', '边缘易致贫户', '突发严重困难户']),
    ('returnee', 'returnee_group', ['是', '否', '未知']),
] -%}
with ancestors as (
    select descendant_code, ancestor_code from {{ ref('int_region_ancestors') }}
),

member_obs as (
    {% for dim, col, _ in dimensions %}
    select o.as_of_month, a.ancestor_code as region_code, '{{ dim }}' as group_dimension, o.{{ col }} as group_value,
           sum(case when o.side = 'current' then o.employed else 0 end)                          as employed,
           sum(case when o.side = 'current' then o.employed_months_worked else 0 end)            as employed_months_worked,
           sum(case when o.side = 'current' then o.employed_out_of_province else 0 end)          as employed_out_of_province,
           sum(case when o.side = 'current' then o.employed_out_of_county else 0 end)            as employed_out_of_county,
           sum(case when o.side = 'current' then o.employed_out_of_county_organised else 0 end)  as employed_out_of_county_organised,
           sum(case when o.side = 'prior_year_end' then o.employed else 0 end)                   as employed_prior_year_end
    from {{ ref('int_members_grouped') }} as o
    inner join ancestors as a on a.descendant_code = o.leaf_region_code
    group by 1, 2, 3, 4
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

household_obs as (
    {% for dim, col, _ in dimensions %}
    select o.as_of_month, a.ancestor_code as region_code, '{{ dim }}' as group_dimension, o.{{ col }} as group_value,
           sum(case when o.side = 'current' then o.wage_income_yuan end)                  as wage_income_yuan,
           sum(case when o.side = 'current' then o.household_members end)                 as household_members,
           sum(case when o.side = 'same_month_prior_year' then o.wage_income_yuan end)   as prior_wage_income_yuan,
           sum(case when o.side = 'same_month_prior_year' then o.household_members end)  as prior_household_members
    from {{ ref('int_households_grouped') }} as o
    inner join ancestors as a on a.descendant_code = o.leaf_region_code
    group by 1, 2, 3, 4
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

group_values as (
    {% for dim, _, values in dimensions %}{% for v in values %}
    select '{{ dim }}' as group_dimension, '{{ v }}' as group_value
    {% if not loop.last %}union all{% endif %}{% endfor %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
    union
    select distinct group_dimension, group_value from member_obs
    union
    select distinct group_dimension, group_value from household_obs
),

spine as (
    select s.as_of_month, s.region_code, s.region_level, s.prior_year_end_month, s.same_month_prior_year,
           g.group_dimension, g.group_value
    from {{ ref('int_snapshot_regions_crossed') }} as s
    cross join group_values as g
),

joined as (
    select
        s.*,
        coalesce(m.employed, 0)                          as employed,
        coalesce(m.employed_months_worked, 0)            as employed_months_worked,
        coalesce(m.employed_out_of_province, 0)          as employed_out_of_province,
        coalesce(m.employed_out_of_county, 0)            as employed_out_of_county,
        coalesce(m.employed_out_of_county_organised, 0)  as employed_out_of_county_organised,
        case when s.prior_year_end_month is not null then coalesce(m.employed_prior_year_end, 0) end as employed_prior_year_end,
        {{ safe_ratio('h.wage_income_yuan', 'h.household_members') }}                  as pc_current,
        {{ safe_ratio('h.prior_wage_income_yuan', 'h.prior_household_members') }}      as pc_prior
    from spine as s
    left join member_obs as m
        on m.as_of_month = s.as_of_month and m.region_code = s.region_code
        and m.group_dimension = s.group_dimension and m.group_value = s.group_value
    left join household_obs as h
        on h.as_of_month = s.as_of_month and h.region_code = s.region_code
        and h.group_dimension = s.group_dimension and h.group_value = s.group_value
),

values_long as (
    select *, 'employment_vs_prior_year' as kpi_code,
           cast(employed as {{ type_double() }}) as numerator, cast(employed_prior_year_end as {{ type_double() }}) as denominator,
           {{ safe_ratio('employed', 'employed_prior_year_end') }} as actual_value
    from joined
    union all
    select *, 'avg_employment_months',
           cast(employed_months_worked as {{ type_double() }}), cast(employed as {{ type_double() }}),
           {{ safe_ratio('employed_months_worked', 'employed') }}
    from joined
    union all
    select *, 'out_of_province_share',
           cast(employed_out_of_province as {{ type_double() }}), cast(employed as {{ type_double() }}),
           {{ safe_ratio('employed_out_of_province', 'employed') }}
    from joined
    union all
    select *, 'organized_outflow_share',
           cast(employed_out_of_county_organised as {{ type_double() }}), cast(employed_out_of_county as {{ type_double() }}),
           {{ safe_ratio('employed_out_of_county_organised', 'employed_out_of_county') }}
    from joined
    union all
    select *, 'wage_income_per_capita_growth',
           pc_current, pc_prior,
           case when pc_current is null then null else {{ safe_ratio('pc_current', 'pc_prior') }} - 1 end
    from joined
),

scored as (
    select
        v.as_of_month, v.region_level, v.region_code, r.region_name, v.group_dimension, v.group_value,
        v.kpi_code, t.kpi_label_zh, coalesce(t.pace_rule, 'as_status') as pace_rule, t.due_from_month,
        v.actual_value, v.numerator, v.denominator,
        {{ applicable_target('t.target_value', 't.target_scope', 'v.region_level') }} as target_value,
        {{ applicable_target('t.comparator', 't.target_scope', 'v.region_level') }} as comparator
    from values_long as v
    inner join {{ ref('dim_region') }} as r
        on r.region_code = v.region_code
    left join {{ ref('kpi_targets') }} as t
        on t.kpi_code = v.kpi_code
),

-- pace (SPEC §2.1) exactly as in kpi_scorecard; no KPI here has the prior_year_to_date rule
paced as (
    select
        *,
        cast(extract(month from as_of_month) as integer) as snapshot_month,
        {{ kpi_progress_target('target_value', 'pace_rule', 'cast(extract(month from as_of_month) as integer)') }} as progress_target_value
    from scored
)

select
    cast(as_of_month as date)                                    as as_of_month,
    cast(extract(year from as_of_month) as integer)              as year,
    cast(region_level as {{ dbt.type_string() }})                as region_level,
    cast(region_code as {{ dbt.type_string() }})                 as region_code,
    cast(region_name as {{ dbt.type_string() }})                 as region_name,
    cast(group_dimension as {{ dbt.type_string() }})             as group_dimension,
    cast(group_value as {{ dbt.type_string() }})                 as group_value,
    cast(kpi_code as {{ dbt.type_string() }})                    as kpi_code,
    cast(actual_value as {{ type_double() }})                    as actual_value,
    cast(numerator as {{ type_double() }})                       as numerator,
    cast(denominator as {{ type_double() }})                     as denominator,
    cast(target_value as {{ type_double() }})                    as target_value,
    cast(comparator as {{ dbt.type_string() }})                  as comparator,
    cast({{ kpi_status('actual_value', 'target_value', 'comparator') }} as {{ dbt.type_string() }}) as status,
    cast(progress_target_value as {{ type_double() }})           as progress_target_value,
    cast({{ kpi_progress_status('actual_value', 'target_value', 'progress_target_value', 'comparator',
                                'due_from_month', 'snapshot_month') }} as {{ dbt.type_string() }}) as progress_status,
    cast(kpi_label_zh as {{ dbt.type_string() }})                as kpi_label_zh
from paced
