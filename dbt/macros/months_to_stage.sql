{#-
  The snapshot months a monitoring staging model (re)hashes on an incremental build, as a list of
  'YYYY-MM-01': those whose published batch in `raw_table` is not the batch staged (the loader replaces a
  month's rows with a new batch), or every month when the HMAC key changed (the stored key_fingerprint
  differs: every month is rebuilt, so keys never mix). none when not incremental (every month).

  Worked out before anything is written, by the model (its month filter) and by its pre-hook (the months
  it deletes first), which both run before the model's rows change: a literal list, so DuckDB reads only
  those months' row groups of raw; as a subquery in the model's filter it joined every raw row kept, of
  every month, on each build.
-#}
{% macro months_to_stage(raw_table) -%}
    {%- if not execute or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set raw = source('raw', raw_table) -%}
    {%- set found = run_query(
        "select distinct strftime(r.as_of_month, '%Y-%m-01') as month"
        ~ " from (select distinct as_of_month, batch_id from " ~ raw ~ ") as r"
        ~ " left join (select distinct as_of_month, batch_id from " ~ this ~ ") as t"
        ~ " on t.as_of_month = r.as_of_month and t.batch_id = r.batch_id"
        ~ " where t.batch_id is null"
        ~ " or (select max(key_fingerprint) from " ~ this ~ ") <> " ~ zengshou.key_fingerprint()
        ~ " order by 1") -%}
    {{ return(found.columns[0].values() | map('string') | list) }}
{%- endmacro %}

{#- pre-hook of a monitoring staging model: delete the months it is about to stage again. -#}
{% macro delete_months_to_stage(raw_table) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ zengshou.months_condition('as_of_month', zengshou.months_to_stage(raw_table)) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The config of a monitoring staging model (incremental by month of its own, the months it stages
    deleted by its pre-hook and inserted directly; data tests scoped by month: partition_meta). -#}
{% macro staging_by_month_config(raw_table) -%}
    {%- set meta = zengshou.partition_meta() -%}
    {%- do meta.update(zengshou.insert_directly_meta()) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_month',
        on_schema_change='fail',
        pre_hook=["{{ zengshou.delete_months_to_stage('" ~ raw_table ~ "') }}"],
        meta=meta
    ) }}
{%- endmacro %}
