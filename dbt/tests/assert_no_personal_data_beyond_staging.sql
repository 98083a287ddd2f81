{{ config(meta={'dagster': {'ref': {'name': 'kpi_scorecard'}}}) }}
-- (Dagster shows this test as a check of kpi_scorecard, the headline mart, though it guards every
-- table of intermediate and marts: a singular test reading several models is otherwise only an
-- observation, with a warning on every run.)
-- depends_on: {{ ref('kpi_scorecard') }}, {{ ref('fct_employment_duration') }}, {{ ref('fct_income_growth') }}, {{ ref('fct_relief_wage_ratio') }}
-- SPEC §4: 证件号码, 姓名, phone numbers and 户主证件号码 never reach intermediate or marts.
select table_schema, table_name, column_name
from information_schema.columns
where lower(table_schema) in ('intermediate', 'marts')
  and lower(column_name) in ('id_number', 'name', 'phone', 'head_name', 'head_id_number', 'birth_date')
