{#-
  The KPI measures per snapshot × region (province, prefectures, counties) × group, on the complete
  spine: every snapshot × region × group value, so every KPI has a row where nothing was measured.
    group_dimension 'all' (group_value 'all')  the region total: what marts.kpi_scorecard reads
    group_dimension key_assistance_county / relocated / monitoring_category / returnee
                                               the key groups of marts.kpi_scorecard_by_group
  Rows of int_kpi_measures (finest grain) roll up to every ancestor region (int_region_ancestors) and,
  per dimension, to their label; so within a dimension the groups add up to the total (test
  groups_add_up). The group values listed below always have a row (a group without people: zeros,
  status no_data); other exported values (e.g. a new 监测对象类别) get rows in the snapshots where they
  occur (issue 12: per snapshot, so a value first seen in a new month changes no earlier month).
  Incremental by snapshot month (macros/rebuild_months.sql).

  Value conventions the KPI definitions (macros/kpi_definitions.sql) rely on:
    person counts                       0 where nobody was counted
    *_prior_year_end / employed_march / labor_brand_employed_prior_year
                                        NULL when the compared snapshot does not exist (no Y-1
                                        snapshot, before March, same month of Y-1 not loaded)
    wage_income_yuan, household_members and their prior_ twins
                                        NULL where no 脱贫户 was observed (per-capita income NULL)
    relief, subsidy, village and rural-craftsman measures
                                        region totals only (not about a person of P: no group
                                        labels); NULL on group rows
-#}
{%- set dimensions = [
    ('key_assistance_county', 'key_assistance_group', ['是', '否', '未知']),
    ('relocated', 'relocated_group', ['是', '否', '未知']),
    ('monitoring_category', 'category_group', ['非监测对象', '脱贫不稳定户', '边缘易致贫户', '突发严重困难户']),
    ('returnee', 'returnee_group', ['是', '否', '未知']),
] -%}
{%- set person_counts = [
    'population_p', 'employed', 'employed_months_worked', 'employed_out_of_province', 'employed_out_of_county',
    'employed_out_of_county_organised', 'yulu_graduates', 'yulu_graduates_employed', 'local_employed',
    'local_months_worked', 'trained', 'trained_certified', 'trained_employed', 'post_holders_in_year',
    'post_holders_prior_year', 'post_holders_prior_year_to_date', 'labor_brand_employed', 'willing_unemployed',
    'willing_unemployed_served_131',
] -%}
{%- set compared_counts = [
    ('employed_prior_year_end', 'prior_year_end_month'),
    ('employed_march', 'march_month'),
    ('labor_brand_employed_prior_year', 'same_month_prior_year'),
] -%}
{%- set household_sums = ['wage_income_yuan', 'household_members', 'prior_wage_income_yuan', 'prior_household_members'] -%}
{%- set all_sums = person_counts + compared_counts | map(attribute=0) | list + household_sums -%}
{%- set relief_sums = ['central_budget_remuneration_wan', 'central_budget_funds_wan', 'bridging_remuneration_wan',
                       'bridging_funds_wan', 'compliant_projects', 'ruled_projects'] -%}
{{ by_month_config() }}
with measures as (
    select * from {{ ref('int_kpi_measures') }}
    where {{ in_rebuild('as_of_month') }}
),

-- to every ancestor region (macro rolled_up_to_regions), as the total and per group dimension
rolled_up as (
    {% call rolled_up_to_regions('measures as m', 'm.leaf_region_code',
                                 ['m.as_of_month', "'all' as group_dimension", "'all' as group_value"]) %}
        {% for c in all_sums %}sum(m.{{ c }}) as {{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
    {% endcall %}
    {%- for dim, col, _ in dimensions %}
    union all
    {% call rolled_up_to_regions('measures as m', 'm.leaf_region_code', ['m.as_of_month', "'" ~ dim ~ "'", 'm.' ~ col]) %}
        {% for c in all_sums %}sum(m.{{ c }}){% if not loop.last %}, {% endif %}{% endfor %}
    {% endcall %}
    {%- endfor %}
),

spine as (
    select * from {{ ref('int_snapshot_regions_crossed') }}
    where {{ in_rebuild('as_of_month') }}
),

-- per snapshot: the listed values, and any other value observed in that snapshot
group_values as (
    select s.as_of_month, v.group_dimension, v.group_value
    from (select distinct as_of_month from spine) as s
    cross join (
        select 'all' as group_dimension, 'all' as group_value
        {% for dim, _, values in dimensions %}{% for v in values %}
        union
        select '{{ dim }}', '{{ v }}'
        {%- endfor %}{% endfor %}
    ) as v
    {%- for dim, col, _ in dimensions %}
    union
    select distinct as_of_month, '{{ dim }}', {{ col }} from measures where group_observed = 1
    {%- endfor %}
),

-- 乡村工匠 (SPEC §2.3): distinct people per region (a person is counted once in a prefecture even with
-- records in two of its counties), so counted per ancestor region directly
craftsmen_certified as (
    select s.as_of_month, t.county_code, t.person_key
    from {{ ref('fct_rural_talent') }} as t
    inner join {{ ref('int_snapshots_listed') }} as s
        on t.certified_on <= s.month_end_date
        and {{ in_rebuild('s.as_of_month') }}
    where t.talent_type = 'rural_craftsman'
),

craftsmen as (
    {% call rolled_up_to_regions('craftsmen_certified as t', 't.county_code', ['t.as_of_month']) %}
        count(distinct t.person_key) as rural_craftsmen
    {% endcall %}
)

select
    s.as_of_month,
    s.year,
    s.month,
    s.region_code,
    s.region_level,
    g.group_dimension,
    g.group_value,
    {%- for c in person_counts %}
    coalesce(m.{{ c }}, 0) as {{ c }},
    {%- endfor %}
    {%- for c, month in compared_counts %}
    case when s.{{ month }} is not null then coalesce(m.{{ c }}, 0) end as {{ c }},
    {%- endfor %}
    {%- for c in household_sums %}
    m.{{ c }},
    {%- endfor %}
    {%- for c in relief_sums %}
    case when g.group_dimension = 'all' then coalesce(r.{{ c }}, 0) end as {{ c }},
    {%- endfor %}
    case when g.group_dimension = 'all' then coalesce(p.subsidies_due, 0) end          as subsidies_due,
    case when g.group_dimension = 'all' then coalesce(p.subsidies_on_time_full, 0) end as subsidies_on_time_full,
    case when g.group_dimension = 'all' then coalesce(v.villages_with_p, 0) end         as villages_with_p,
    case when g.group_dimension = 'all' then coalesce(v.villages_with_3_leaders, 0) end as villages_with_3_leaders,
    case when g.group_dimension = 'all' then coalesce(c.rural_craftsmen, 0) end         as rural_craftsmen
from spine as s
inner join group_values as g
    on g.as_of_month = s.as_of_month
left join rolled_up as m
    on m.as_of_month = s.as_of_month and m.region_code = s.region_code
    and m.group_dimension = g.group_dimension and m.group_value = g.group_value
left join {{ ref('int_relief_projects_rolled_up') }} as r
    on g.group_dimension = 'all' and r.year = s.year and r.region_code = s.region_code
left join {{ ref('int_subsidy_payments_rolled_up') }} as p
    on g.group_dimension = 'all' and p.as_of_month = s.as_of_month and p.region_code = s.region_code
left join {{ ref('int_villages_rolled_up') }} as v
    on g.group_dimension = 'all' and v.as_of_month = s.as_of_month and v.region_code = s.region_code
left join craftsmen as c
    on g.group_dimension = 'all' and c.as_of_month = s.as_of_month and c.region_code = s.region_code
