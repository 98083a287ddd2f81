{{ config(meta={'dagster': {'ref': {'name': 'kpi_scorecard'}}}) }}
-- (Dagster shows this test as a check of kpi_scorecard, the mart it checks: a singular test reading several models
-- is otherwise only an observation, with a warning on every run.)
-- Every snapshot × every region (146) × every implemented KPI has exactly one scorecard row.
with expected as (
    select s.as_of_month, r.region_code, k.kpi_code
    from {{ ref('int_snapshots_listed') }} as s
    cross join {{ ref('dim_region') }} as r
    cross join (select distinct kpi_code from {{ ref('kpi_scorecard') }}) as k
)

select e.*
from expected as e
left join {{ ref('kpi_scorecard') }} as c
    on c.as_of_month = e.as_of_month and c.region_code = e.region_code and c.kpi_code = e.kpi_code
where c.kpi_code is null
