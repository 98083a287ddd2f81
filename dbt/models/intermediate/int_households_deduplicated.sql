{{ by_month_config() }}
-- One row per snapshot × household. A household exported twice in one snapshot (a dirty export the
-- loader does not reject) keeps its first row; the staging test on the same grain warns about it.
with ranked as (
    select
        h.*,
        row_number() over (partition by as_of_month, household_key order by source_row) as row_rank,
        count(*) over (partition by as_of_month, household_key)                         as duplicate_rows
    from {{ ref('stg_monitoring__households') }} as h
    where household_key is not null
      and {{ in_rebuild('as_of_month') }}
)

select
    as_of_month,
    cast(extract(year from as_of_month) as integer) as year,
    household_key,
    county_code,
    prefecture_code,
    household_type,
    (household_type = '脱贫户')                     as is_poverty_household,
    monitoring_category,
    is_relocated,
    household_size,
    wage_income_yuan,
    business_income_yuan,
    transfer_income_yuan,
    property_income_yuan,
    duplicate_rows
from ranked
where row_rank = 1
