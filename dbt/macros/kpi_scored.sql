{#-
  kpi_scored(kpi_values, group_columns): the ONE place where a KPI value gets its target, status, pace
  and labels, for marts.kpi_scorecard and marts.kpi_scorecard_by_group alike. `kpi_values` is a relation
  or subquery with int_kpi_values' columns; `group_columns` are carried through after region_name.
    target_value / comparator  from seeds/kpi_targets.csv where the target applies at the region level
                               (target_scope 'all' or that level: trained_persons is province-only)
    status                     macro kpi_status: no_data > no_target > met / not_met
    progress_target_value,     SPEC §2.1: macros kpi_progress_target / kpi_progress_status, per-KPI
    progress_status            pace_rule and due_from_month from the seed; the prior_year_to_date rule
                               reads the KPI's pace_prior_year_to_date / pace_prior_year
    region_level, region_name  from dim_region; kpi_label_zh from the seed
  Output columns and types are those of the marts' contracts.
-#}
{% macro kpi_scored(kpi_values, group_columns=[]) -%}
with kpi_values as (
    select * from {{ kpi_values }}
),

targets as (
    select kpi_code, kpi_label_zh, target_value, comparator, target_scope, pace_rule, due_from_month
    from {{ ref('kpi_targets') }}
),

regions as (
    select region_code, region_level, region_name
    from {{ ref('dim_region') }}
),

scored as (
    select
        v.as_of_month,
        r.region_level,
        v.region_code,
        r.region_name,
        {%- for c in group_columns %}
        v.{{ c }},
        {%- endfor %}
        v.kpi_code,
        t.kpi_label_zh,
        coalesce(t.pace_rule, 'as_status') as pace_rule,
        t.due_from_month,
        v.pace_prior_year_to_date,
        v.pace_prior_year,
        v.actual_value,
        v.numerator,
        v.denominator,
        -- a target applies at every level ('all') or only at its own level ('province')
        {{ applicable_target('t.target_value', 't.target_scope', 'r.region_level') }} as target_value,
        {{ applicable_target('t.comparator', 't.target_scope', 'r.region_level') }} as comparator
    from kpi_values as v
    inner join regions as r
        on r.region_code = v.region_code
    left join targets as t
        on t.kpi_code = v.kpi_code
),

paced as (
    select
        *,
        cast(extract(month from as_of_month) as integer) as snapshot_month,
        {{ kpi_progress_target('target_value', 'pace_rule', 'cast(extract(month from as_of_month) as integer)',
                               'pace_prior_year_to_date', 'pace_prior_year') }} as progress_target_value
    from scored
)

select
    cast(as_of_month as date)                                        as as_of_month,
    cast(extract(year from as_of_month) as integer)                  as year,
    cast(region_level as {{ dbt.type_string() }})                    as region_level,
    cast(region_code as {{ dbt.type_string() }})                     as region_code,
    cast(region_name as {{ dbt.type_string() }})                     as region_name,
    {%- for c in group_columns %}
    cast({{ c }} as {{ dbt.type_string() }})                         as {{ c }},
    {%- endfor %}
    cast(kpi_code as {{ dbt.type_string() }})                        as kpi_code,
    cast(actual_value as {{ type_double() }})                        as actual_value,
    cast(numerator as {{ type_double() }})                           as numerator,
    cast(denominator as {{ type_double() }})                         as denominator,
    cast(target_value as {{ type_double() }})                        as target_value,
    cast(comparator as {{ dbt.type_string() }})                      as comparator,
    cast({{ kpi_status('actual_value', 'target_value', 'comparator') }} as {{ dbt.type_string() }}) as status,
    cast(progress_target_value as {{ type_double() }})               as progress_target_value,
    cast({{ kpi_progress_status('actual_value', 'target_value', 'progress_target_value', 'comparator',
                                'due_from_month', 'snapshot_month') }} as {{ dbt.type_string() }}) as progress_status,
    cast(kpi_label_zh as {{ dbt.type_string() }})                    as kpi_label_zh
from paced
{%- endmacro %}
