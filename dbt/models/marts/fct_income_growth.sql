-- Household × year, taken from the latest snapshot of the year (SPEC §4). The prior-year columns
-- come from the same household in the snapshot of the SAME MONTH of Y-1 (工资性收入 is
-- year-to-date, so only same-month figures are comparable — the rule of
-- wage_income_per_capita_growth); NULL when that snapshot was not loaded or the household was not in it.
{{ by_month_config('year', years=true) }}
-- Each side reads its own years only (a literal list: DuckDB skips other years' row groups), so the
-- join's hash table holds the prior year's households, not every month's kept.
with households as (
    select * from {{ ref('int_households_deduplicated') }}
    where {{ in_rebuild_years('year') }}
),

prior_year_households as (
    select * from {{ ref('int_households_deduplicated') }}
    where {{ in_rebuild_years('year', years_back=1) }}
),

snapshots as (
    select * from {{ ref('int_snapshots_listed') }}
)

select
    cast(h.household_key as {{ dbt.type_string() }})    as household_key,
    cast(h.year as integer)                             as year,
    cast(h.as_of_month as date)                         as as_of_month,
    cast(h.county_code as {{ dbt.type_string() }})      as county_code,
    cast(h.prefecture_code as {{ dbt.type_string() }})  as prefecture_code,
    cast(h.household_type as {{ dbt.type_string() }})   as household_type,
    cast(h.household_size as integer)                   as household_size,
    cast(h.wage_income_yuan as decimal(18,2))           as wage_income_yuan,
    cast(prior.wage_income_yuan as decimal(18,2))       as prior_year_wage_income_yuan,
    cast(prior.household_size as integer)               as prior_year_household_size
from households as h
inner join snapshots as s
    on s.as_of_month = h.as_of_month
left join prior_year_households as prior
    on prior.as_of_month = s.same_month_prior_year
    and prior.household_key = h.household_key
where s.is_latest_of_year
    and {{ in_rebuild_years('s.year') }}
