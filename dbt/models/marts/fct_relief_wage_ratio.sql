-- One row per work-for-relief project and ledger year (latest ledger state; a multi-year project
-- appears once per year). Ratios are fractions (0.3, not 30).
select
    cast(project_id as {{ dbt.type_string() }})        as project_id,
    cast(year as integer)                              as year,
    cast(county_code as {{ dbt.type_string() }})       as county_code,
    cast(fund_source as {{ dbt.type_string() }})       as fund_source,
    cast(central_funds_wan as decimal(18,4))           as central_funds_wan,
    cast(labor_remuneration_wan as decimal(18,4))      as labor_remuneration_wan,
    cast(remuneration_ratio as {{ type_double() }})                 as remuneration_ratio,
    cast(required_ratio as {{ type_double() }})                     as required_ratio,
    cast(is_compliant as boolean)                      as is_compliant
from {{ ref('int_relief_projects_evaluated') }}
