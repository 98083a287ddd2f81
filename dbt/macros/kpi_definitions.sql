{#-
  The KPI definitions (SPEC §2, §2.3), each written once, as SQL over the columns of
  intermediate.int_kpi_measures_rolled_up (one row per snapshot × region × group). A family is one macro
  named kpi_definitions_<family> returning a list of KPIs; int_kpi_values finds every such macro by its
  name, so adding a family is adding a macro here (plus its targets row in seeds/kpi_targets.csv).
  Keys of a KPI:
    code         kpi_code
    numerator    SQL; cast to double
    denominator  SQL; cast to double (omit: NULL, a count KPI)
    actual       SQL (default: numerator ÷ denominator, NULL on a zero or NULL denominator)
    by_group     true: also broken down by key group (marts.kpi_scorecard_by_group)
    pace_prior_year_to_date, pace_prior_year
                 what a prior_year_to_date pace rule compares with (SPEC §2.1; default NULL)
  Measures that are absent read as 0 where the compared snapshot exists and NULL where it does not
  (see int_kpi_measures_rolled_up), so e.g. employment_vs_prior_year is NULL (no_data) without a Y-1
  snapshot. Facts behind the measures: the int_kpi_measures header.
-#}

{#- employment: employed = 务工时间（月） > 0 in the snapshot; work region and 组织化输出 per SPEC §2. -#}
{% macro kpi_definitions_employment() %}
    {{ return([
        {'code': 'employment_vs_prior_year', 'numerator': 'employed', 'denominator': 'employed_prior_year_end', 'by_group': true},
        {'code': 'q1_progress', 'numerator': 'employed_march',
         'denominator': 'case when employed_march is not null then employed_prior_year_end end'},
        {'code': 'avg_employment_months', 'numerator': 'employed_months_worked', 'denominator': 'employed', 'by_group': true},
        {'code': 'out_of_province_share', 'numerator': 'employed_out_of_province', 'denominator': 'employed', 'by_group': true},
        {'code': 'organized_outflow_share', 'numerator': 'employed_out_of_county_organised',
         'denominator': 'employed_out_of_county', 'by_group': true},
        {'code': 'yulu_graduate_employment_rate', 'numerator': 'yulu_graduates_employed', 'denominator': 'yulu_graduates'},
    ]) }}
{% endmacro %}

{#- income: PC(Y,M) = Σ 工资性收入 ÷ Σ 家庭人口数 over 脱贫户; numerator PC(Y,M), denominator PC(Y-1,M),
    actual PC(Y,M) ÷ PC(Y-1,M) − 1 (NULL when Y-1,M was not loaded or PC(Y-1,M) is 0 / NULL). -#}
{% macro kpi_definitions_income() %}
    {%- set pc_current = safe_ratio('wage_income_yuan', 'household_members') -%}
    {%- set pc_prior = safe_ratio('prior_wage_income_yuan', 'prior_household_members') -%}
    {{ return([
        {'code': 'wage_income_per_capita_growth', 'numerator': pc_current, 'denominator': pc_prior,
         'actual': safe_ratio(pc_current, pc_prior) ~ ' - 1', 'by_group': true},
    ]) }}
{% endmacro %}

{#- training (HR platform, via int_members_hr_linked): trained_persons is a count, NULL (no_data) where
    the region has no member of P in the snapshot; target at province level only (seed). -#}
{% macro kpi_definitions_training() %}
    {{ return([
        {'code': 'trained_persons', 'numerator': 'trained',
         'actual': 'case when population_p > 0 then cast(trained as ' ~ type_double() ~ ') end'},
        {'code': 'certified_rate', 'numerator': 'trained_certified', 'denominator': 'trained'},
        {'code': 'post_training_employment_rate', 'numerator': 'trained_employed', 'denominator': 'trained'},
    ]) }}
{% endmacro %}

{#- work for relief: the latest ledger state of year Y, whatever the snapshot month. -#}
{% macro kpi_definitions_relief() %}
    {{ return([
        {'code': 'relief_ratio_central_budget', 'numerator': 'central_budget_remuneration_wan', 'denominator': 'central_budget_funds_wan'},
        {'code': 'relief_ratio_bridging_funds', 'numerator': 'bridging_remuneration_wan', 'denominator': 'bridging_funds_wan'},
        {'code': 'relief_project_compliance', 'numerator': 'compliant_projects', 'denominator': 'ruled_projects'},
    ]) }}
{% endmacro %}

{#- public welfare posts: holders of Y up to M ÷ holders of the whole of Y-1, paced against the holders
    of Y-1 up to the same month M (SPEC §2.1); subsidies due by the snapshot paid in full and on time. -#}
{% macro kpi_definitions_public_post() %}
    {{ return([
        {'code': 'public_post_placements', 'numerator': 'post_holders_in_year', 'denominator': 'post_holders_prior_year',
         'pace_prior_year_to_date': 'post_holders_prior_year_to_date', 'pace_prior_year': 'post_holders_prior_year'},
        {'code': 'subsidy_on_time_full_rate', 'numerator': 'subsidies_on_time_full', 'denominator': 'subsidies_due'},
    ]) }}
{% endmacro %}

{#- labour brands: employed members now vs the same month of Y-1, minus 1. -#}
{% macro kpi_definitions_labor_brand() %}
    {{ return([
        {'code': 'labor_brand_employment_growth', 'numerator': 'labor_brand_employed',
         'denominator': 'labor_brand_employed_prior_year',
         'actual': safe_ratio('labor_brand_employed', 'labor_brand_employed_prior_year') ~ ' - 1'},
    ]) }}
{% endmacro %}

{#- rural talent: villages of P with >= 3 致富带头人; 乡村工匠 certified up to the snapshot (a count, NULL
    where the region has no member of P, as trained_persons). -#}
{% macro kpi_definitions_rural_talent() %}
    {{ return([
        {'code': 'wealth_leader_village_share', 'numerator': 'villages_with_3_leaders', 'denominator': 'villages_with_p'},
        {'code': 'rural_craftsmen', 'numerator': 'rural_craftsmen',
         'actual': 'case when population_p > 0 then cast(rural_craftsmen as ' ~ type_double() ~ ') end'},
    ]) }}
{% endmacro %}

{#- employment services: willing-but-unemployed 脱贫人口 who got 1 职业指导 + 3 岗位推荐 + 1 培训推荐 in Y. -#}
{% macro kpi_definitions_employment_service() %}
    {{ return([
        {'code': 'service_131_coverage', 'numerator': 'willing_unemployed_served_131', 'denominator': 'willing_unemployed'},
    ]) }}
{% endmacro %}

{#- local employment (就地就近, SPEC §2.3): employed working 县内 or 县外省内. -#}
{% macro kpi_definitions_local_employment() %}
    {{ return([
        {'code': 'local_employment_count', 'numerator': 'local_employed',
         'actual': 'case when population_p > 0 then cast(local_employed as ' ~ type_double() ~ ') end'},
        {'code': 'local_avg_employment_months', 'numerator': 'local_months_worked', 'denominator': 'local_employed'},
        {'code': 'local_employment_share', 'numerator': 'local_employed', 'denominator': 'employed'},
    ]) }}
{% endmacro %}

{#- The families: every macro of this project named kpi_definitions_<family>, sorted by family; the var
    kpi_families (a list) narrows them (unit tests test one family at a time). -#}
{% macro kpi_families() %}
    {%- set wanted = var('kpi_families', none) -%}
    {%- set found = [] -%}
    {%- for name in context[project_name].keys() | sort -%}
        {%- if name.startswith('kpi_definitions_') -%}
            {%- set family = name[16:] -%}
            {%- if wanted is none or family in wanted -%}{%- do found.append(family) -%}{%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}

{#- Every KPI of the families, as dicts, families in name order. -#}
{% macro kpi_definitions() %}
    {%- set kpis = [] -%}
    {%- for family in kpi_families() -%}
        {%- for kpi in context[project_name]['kpi_definitions_' ~ family]() -%}
            {%- do kpis.append(kpi) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(kpis) }}
{% endmacro %}
