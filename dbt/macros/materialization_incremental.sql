{#-
  dbt-duckdb's incremental materialization, with one path added (issue 12, "month 60 costs month 2"):
  an incremental build of a model with meta zengshou_insert_directly — every month-partitioned model:
  by_month_config, the monitoring staging models, the two with pre-hooks of their own — is written with
  one INSERT of its query. Such a model's pre-hook has already deleted every month (year) its query
  computes, so dbt-duckdb's way (the query into a temp table, then delete+insert from it into the table)
  only copied the rows once more: on the province warehouse, stg_monitoring__members put its new month
  (9.2 M rows) into the temp table in 13.1 s and took 16.1 s more to copy it (2026-12-03).

  on_schema_change='fail' still holds, and an enforced contract is still checked: the query's columns
  are planned into an empty temp table (no row computed) and compared with the table's before the
  pre-hook deletes anything (tests/knownanswer/test_insert_directly.py). A first build, `--full-refresh`
  and every model without the meta key go to dbt-duckdb's own materialization unchanged.
-#}
{% materialization incremental, adapter='duckdb' %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- if not (config.get('meta') or {}).get('zengshou_insert_directly') or existing_relation is none
         or existing_relation.is_view or should_full_refresh() or model['language'] != 'sql' -%}
    {{ return(dbt.materialization_incremental_duckdb()) }}
  {%- endif -%}

  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}
  {%- set columns_probe = make_temp_relation(target_relation, '__zengshou_columns') -%}

  {#- the columns first: a model out of step with its table fails before its pre-hook deletes anything -#}
  {% do run_query(create_table_as(True, columns_probe, 'select * from (\n' ~ compiled_code ~ '\n) limit 0')) %}
  {% do process_schema_changes(on_schema_change, columns_probe, existing_relation) %}
  {% do adapter.drop_relation(columns_probe) %}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here (the months' delete of the pre-hook and the insert commit together):
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% call statement('main') %}
    insert into {{ target_relation }} by name
    select * from (
      {{ compiled_code }}
    )
  {% endcall %}

  {% do persist_docs(target_relation, model) %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do adapter.commit() %}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
