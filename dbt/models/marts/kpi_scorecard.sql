{#-
  KPI scorecard: as_of_month × region_code × kpi_code (SPEC §4).

  Every KPI family is one intermediate model `int_kpi_values_<family>` in long format
  (as_of_month, region_code, kpi_code, numerator, denominator, actual_value) built on the full
  snapshot × region spine. Adding a KPI family (e.g. the HR-based trained_persons, certified_rate …)
  = one new model + one entry in this list. Targets, the target scope (province-only targets),
  region attributes, the status rule (macro kpi_status) and the pace rule (SPEC §2.1: macros
  kpi_progress_target / kpi_progress_status, per-KPI pace_rule and due_from_month from the seed) are
  applied here, once.
-#}
{%- set kpi_value_models = [
    'int_kpi_values_employment',
    'int_kpi_values_income',
    'int_kpi_values_relief',
    'int_kpi_values_training',
    'int_kpi_values_public_post',
    'int_kpi_values_labor_brand',
    'int_kpi_values_rural_talent',
    'int_kpi_values_employment_service',
    'int_kpi_values_local_employment',
] -%}

with kpi_values as (
    {% for model_name in kpi_value_models %}
    select as_of_month, region_code, kpi_code, numerator, denominator, actual_value
    from {{ ref(model_name) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

targets as (
    select kpi_code, kpi_label_zh, target_value, comparator, target_scope, pace_rule, due_from_month
    from {{ ref('kpi_targets') }}
),

-- prior-year counts for the prior_year_to_date pace rule (SPEC §2.1)
pace_reference as (
    select as_of_month, region_code, kpi_code, prior_year_to_date, prior_year
    from {{ ref('int_kpi_pace_reference') }}
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
        v.kpi_code,
        t.kpi_label_zh,
        coalesce(t.pace_rule, 'as_status') as pace_rule,
        t.due_from_month,
        p.prior_year_to_date,
        p.prior_year,
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
    left join pace_reference as p
        on p.as_of_month = v.as_of_month and p.region_code = v.region_code and p.kpi_code = v.kpi_code
),

paced as (
    select
        *,
        cast(extract(month from as_of_month) as integer) as snapshot_month,
        {{ kpi_progress_target('target_value', "coalesce(pace_rule, 'as_status')", 'cast(extract(month from as_of_month) as integer)',
                               'prior_year_to_date', 'prior_year') }} as progress_target_value
    from scored
)

select
    cast(as_of_month as date)                                        as as_of_month,
    cast(extract(year from as_of_month) as integer)                  as year,
    cast(region_level as {{ dbt.type_string() }})                    as region_level,
    cast(region_code as {{ dbt.type_string() }})                     as region_code,
    cast(region_name as {{ dbt.type_string() }})                     as region_name,
    cast(kpi_code as {{ dbt.type_string() }})                        as kpi_code,
    cast(actual_value as {{ type_double() }})                                     as actual_value,
    cast(numerator as {{ type_double() }})                                        as numerator,
    cast(denominator as {{ type_double() }})                                      as denominator,
    cast(target_value as {{ type_double() }})                                     as target_value,
    cast(comparator as {{ dbt.type_string() }})                      as comparator,
    cast({{ kpi_status('actual_value', 'target_value', 'comparator') }} as {{ dbt.type_string() }}) as status,
    cast(progress_target_value as {{ type_double() }})                            as progress_target_value,
    cast({{ kpi_progress_status('actual_value', 'target_value', 'progress_target_value', 'comparator',
                                'due_from_month', 'snapshot_month') }} as {{ dbt.type_string() }}) as progress_status,
    cast(kpi_label_zh as {{ dbt.type_string() }})                    as kpi_label_zh
from paced
