-- Person × year, taken from the latest snapshot of the year (SPEC §4). Members of both household types
-- are kept (household_type tells 脱贫户 from 一般农户); work_region is NULL when not employed. county_code /
-- prefecture_code: the person's region in that snapshot (row-level security filters on them).
-- Rule member_without_household: a member whose household has no published row in that snapshot (the
-- row was quarantined) has no known 户类型 and is left out here; int_members_without_household counts
-- them per snapshot and county.
{{ by_month_config('year', years=true) }}
select
    cast(m.person_key as {{ dbt.type_string() }})      as person_key,
    cast(m.year as integer)                            as year,
    cast(m.as_of_month as date)                        as as_of_month,
    cast(m.county_code as {{ dbt.type_string() }})     as county_code,
    cast(m.prefecture_code as {{ dbt.type_string() }}) as prefecture_code,
    cast(m.household_type as {{ dbt.type_string() }})  as household_type,
    cast(m.months_worked as integer)                   as months_worked,
    cast(m.is_employed as boolean)                     as is_employed,
    cast(m.work_region as {{ dbt.type_string() }})     as work_region
from {{ ref('int_members_classified') }} as m
inner join {{ ref('int_snapshots_listed') }} as s
    on s.as_of_month = m.as_of_month
where s.is_latest_of_year
    and m.has_household_row
    and {{ in_rebuild_years('s.year') }}
    and {{ in_rebuild_years('m.year') }}  -- the same years, on the person rows: DuckDB skips other years
