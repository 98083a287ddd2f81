{#-
  The snapshots in which a person's county changes: one row per person × snapshot whose county differs
  from the county of the person's latest earlier snapshot (`is distinct from`: NULL counts as a county),
  and per person × first snapshot. int_person_county_spells is these rows with their ends; the rule is
  in its header.

  Incremental (issue 12: month 60 costs what month 2 costs). Whether month M has a change depends on
  the person's earlier snapshots, so rebuilding M rebuilds M and every later month (pre-hook: delete
  from the first month to build on). The county before those months is that of the person's latest
  change row kept, so earlier months' person rows are not read again: a build reads the rows of the
  months it rebuilds and this table. A full build reads every month.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{% if zengshou.building_incrementally() %}delete from {{ this }} where {{ zengshou.from_first_rebuilt('as_of_month') }}{% else %}select 1{% endif %}"],
    meta=zengshou.insert_directly_meta()
) }}
with snapshots as (
    select person_key, as_of_month, county_code, prefecture_code
    from {{ ref('int_members_classified') }}
    where person_key is not null
      and {{ zengshou.from_first_rebuilt('as_of_month') }}
),

marked as (
    select
        *,
        lag(county_code) over (partition by person_key order by as_of_month)     as previous_county_code,
        row_number() over (partition by person_key order by as_of_month)         as snapshot_rank
    from snapshots
){% if zengshou.building_incrementally() %},

-- each person's county before the months built: that of their latest change row kept (the pre-hook
-- deleted the rows of the months built)
kept as (
    select person_key, county_code
    from (
        select person_key, county_code,
               row_number() over (partition by person_key order by as_of_month desc) as recency
        from {{ this }}
    ) as ranked
    where recency = 1
){% endif %}

select
    cast(m.person_key as {{ dbt.type_string() }})        as person_key,
    cast(m.as_of_month as date)                          as as_of_month,
    cast(m.county_code as {{ dbt.type_string() }})       as county_code,
    cast(m.prefecture_code as {{ dbt.type_string() }})   as prefecture_code
from marked as m
{%- if zengshou.building_incrementally() %}
left join kept as k
    on k.person_key = m.person_key
where case
    when m.snapshot_rank = 1 then k.person_key is null or k.county_code is distinct from m.county_code
    else m.previous_county_code is distinct from m.county_code
end
{%- else %}
where m.snapshot_rank = 1 or m.previous_county_code is distinct from m.county_code
{%- endif %}
