{#-
  The one per-person model a later snapshot reads (issue 12, the 返乡回流 rule): the people working out
  of county (县外省内 / 省外 / 国外) in each year-end snapshot E (the latest snapshot of its year), all
  household types, with their leaf region and key-group labels in E. A snapshot S of Y+1 judges
  returnee_group (macro has_returned) by joining its own people to these rows: the rest of E's people
  are 返乡回流 否 for every S and are read as aggregates (int_kpi_month_cells). Narrow (no measures),
  and built only when E is rebuilt; the rows of a month that is no longer its year's latest (a later
  month of that year arrived) are deleted.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of_month',
    on_schema_change='fail',
    pre_hook=["{% if is_incremental() %}delete from {{ this }} where {{ zengshou.in_rebuild('as_of_month') }} or as_of_month not in (select as_of_month from {{ ref('int_snapshots_listed') }} where is_latest_of_year){% else %}select 1{% endif %}"],
    meta=zengshou.insert_directly_meta()
) }}
with year_ends as (
    select as_of_month from {{ ref('int_snapshots_listed') }}
    where is_latest_of_year and {{ in_rebuild('as_of_month') }}
),

members as (
    {{ kpi_members('m.as_of_month in (select as_of_month from year_ends)') }}
)

select
    as_of_month,
    person_key,
    is_poverty_population,
    leaf_region_code,
    key_assistance_group,
    relocated_group,
    category_group
from members
where is_out_of_county
