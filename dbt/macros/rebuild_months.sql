{#-
  Incremental by snapshot month (issue 12). Every model whose rows belong to a snapshot month is
  materialized incremental (delete+insert on its month column) and, on an incremental build, computes
  only the months asked for (a list of 'YYYY-MM-01' dates), taken from, in this order:
    the var `rebuild_months`       a list given by hand: `dbt build --vars '{"rebuild_months": [...]}'`
    the var `rebuild_months_from`  the name of a table with one DATE column `month`, read with run_query
                                   when the model executes. The Dagster transform step works the months
                                   out (dagster_project/month_plan.py: the changed months and every month
                                   whose values can depend on them), writes them to
                                   meta.dbt_rebuild_request and passes the same constant var on every
                                   build: dbt's partial-parse state check hashes the CLI vars, so months
                                   passed as a var's value made every build parse the whole project.
                                   No row = no month (as the empty list).
  Without either var an incremental build recomputes every month (plain `dbt build` on a warehouse that
  has the tables is then a full rebuild in place; a request table a killed run left behind is not read),
  and a first build or `dbt build --full-refresh` builds every month from scratch.

  rebuild_months()            the list, or none (= every month)
  in_rebuild(column)          SQL condition: `column` (a date) is a month to build; `true` when not
                              incremental or when neither var is given
  in_rebuild_years(column)    the same for a year column: a year with any month to build (years_back=1:
                              the years before them)
  delete_rebuilt(column, years=false)
                              pre-hook: delete the rows of the months (years) to build first, so a
                              month that now yields no rows (no early warning left, say) loses its old
                              rows too — delete+insert alone only replaces months that still have rows
-#}
{% macro rebuild_months() -%}
    {%- set months = var('rebuild_months', none) -%}
    {%- if months is string -%}{%- set months = fromjson(months) if months.startswith('[') else months.split(',') -%}{%- endif -%}
    {%- if months is none and execute and var('rebuild_months_from', none) -%}
        {%- set request = run_query("select strftime(month, '%Y-%m-01') as month from " ~ var('rebuild_months_from') ~ " order by 1") -%}
        {%- set months = [] -%}
        {%- for m in request.columns[0].values() -%}{%- do months.append((m | string)[:10]) -%}{%- endfor -%}
    {%- endif -%}
    {{ return(months) }}
{%- endmacro %}

{#- is_incremental(), false in a dbt unit test (no relation `this` there). -#}
{% macro building_incrementally() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}

{#- The months are read only when building incrementally: a full build reads no request table. -#}
{% macro in_rebuild(column) -%}
    {{ zengshou.months_condition(column, zengshou.rebuild_months() if zengshou.building_incrementally() else none) }}
{%- endmacro %}

{#- `years_back`: the years before those (1: the prior year, which a year's facts compare with). -#}
{% macro in_rebuild_years(column, years_back=0) -%}
    {{ zengshou.years_condition(column, zengshou.rebuild_months() if zengshou.building_incrementally() else none, years_back) }}
{%- endmacro %}

{#- SQL condition: the date `column` is in the first month to build or after it (a model whose rows of a
    month depend on the month before: each rebuilt month changes every later one). `true` when not
    building incrementally or every month is built; `false` when no month is. -#}
{% macro from_first_rebuilt(column) -%}
    {%- set months = zengshou.rebuild_months() if zengshou.building_incrementally() else none -%}
    {%- if months is none -%}
        (1 = 1)
    {%- elif not months -%}
        (1 = 0)
    {%- else -%}
        ({{ column }} >= cast('{{ months | map('string') | sort | first }}' as date))
    {%- endif -%}
{%- endmacro %}

{#- SQL condition: the date `column` is a month to build or the same month a year before one (what a
    snapshot compares with household by household); `true` when not building incrementally. A literal
    list, which DuckDB checks against each row group's months: a semi-join on a subquery of the months
    read every month kept. -#}
{% macro in_rebuild_or_year_before(column) -%}
    {%- set months = zengshou.rebuild_months() if zengshou.building_incrementally() else none -%}
    {%- if months is not none -%}
        {%- set both = [] -%}
        {%- for m in months -%}
            {%- do both.append(m | string) -%}
            {%- do both.append((((m | string)[:4] | int) - 1) ~ (m | string)[4:10]) -%}
        {%- endfor -%}
        {%- set months = both -%}
    {%- endif -%}
    {{ zengshou.months_condition(column, months) }}
{%- endmacro %}

{#- SQL condition: the date `column` is one of `months`; `true` when `months` is none (every month). -#}
{% macro months_condition(column, months) -%}
    {%- if months is not none -%}
        ({{ column }} in (cast(null as date){% for m in months %}, cast('{{ m }}' as date){% endfor %}))
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}

{#- SQL condition: the year `column` is the year of one of `months`; `true` when `months` is none. -#}
{% macro years_condition(column, months, years_back=0) -%}
    {%- if months is not none -%}
        {%- set years = [] -%}
        {%- for m in months -%}{%- if ((m | string)[:4] | int) - years_back not in years -%}{%- do years.append(((m | string)[:4] | int) - years_back) -%}{%- endif -%}{%- endfor -%}
        ({{ column }} in (cast(null as integer){% for y in years %}, {{ y }}{% endfor %}))
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}

{% macro delete_rebuilt(column='as_of_month', years=false, also='') -%}
    {%- if zengshou.building_incrementally() -%}
        delete from {{ this }} where {{ zengshou.in_rebuild_years(column) if years else zengshou.in_rebuild(column) }}{{ ' or ' ~ also if also else '' }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The config of a month-partitioned model: one line in each model. meta zengshou_partition says to
    publishing and validation (dagster_project/marts.py) that the model's rows of a month (a year) are
    rebuilt together and nothing else changes; a model that also deletes other rows (`also`) has none,
    and is taken whole. -#}
{% macro by_month_config(column='as_of_month', years=false, also='') -%}
    {%- set meta = {} if also else zengshou.partition_meta(column, years) -%}
    {%- do meta.update(zengshou.insert_directly_meta()) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=column,
        on_schema_change='fail',
        pre_hook=["{{ zengshou.delete_rebuilt('" ~ column ~ "', " ~ (years | string | lower) ~ ", \"" ~ also ~ "\") }}"],
        meta=meta
    ) }}
{%- endmacro %}

{#- meta zengshou_partition: the rows of a month (a year) of `column` are rebuilt together and nothing
    else changes. Read by publishing and validation (dagster_project/marts.py, marts only) and by the
    data tests' scope (get_where_subquery.sql, every model); set by by_month_config and by the monitoring
    staging models, which are incremental by month of their own. -#}
{% macro partition_meta(column='as_of_month', years=false) -%}
    {{ return({'zengshou_partition': {'column': column, 'by': 'year' if years else 'month'}}) }}
{%- endmacro %}

{#- meta zengshou_insert_directly: the model's pre-hook deletes every month (year) its query computes,
    so an incremental build inserts the query's rows straight into the table, without dbt-duckdb's temp
    table (materialization_incremental.sql). Set by by_month_config, the monitoring staging models and
    the models with a pre-hook of their own. -#}
{% macro insert_directly_meta() -%}
    {{ return({'zengshou_insert_directly': true}) }}
{%- endmacro %}
