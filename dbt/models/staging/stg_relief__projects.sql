-- Work-for-relief ledger (SPEC §3.3): one row per report_year × project_id, the latest ledger state.
-- Files of a year are applied in file-name order (names carry the report date), so the row from the
-- greatest report_file wins a restatement; within one file the last source_row wins.
with source as (
    select * from {{ source('raw', 'relief_projects') }}
),

typed as (
    select
        {{ text_to_integer('report_year') }}                           as report_year,
        report_file,
        batch_id,
        cast(source_row as bigint)                                     as source_row,
        project_id,
        {{ text_to_integer('year') }}                                  as ledger_year,
        project_name,
        cast(county_code as {{ dbt.type_string() }})                   as county_code,
        cast(prefecture_code as {{ dbt.type_string() }})               as prefecture_code,
        prefecture_name,
        county_name,
        fund_source,
        {{ text_to_decimal('central_funds_wan', 18, 4) }}              as central_funds_wan,
        {{ text_to_decimal('labor_remuneration_wan', 18, 4) }}         as labor_remuneration_wan,
        {{ text_to_integer('workers_total') }}                         as workers_total,
        {{ text_to_integer('workers_poverty_alleviated') }}            as workers_poverty_alleviated,
        {{ text_to_date('start_date') }}                               as start_date,
        {{ text_to_date('end_date') }}                                 as end_date
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (
            partition by report_year, project_id
            order by report_file desc, source_row desc
        ) as restatement_rank,
        count(*) over (partition by report_year, project_id) as ledger_rows
    from typed
)

select
    report_year as year,
    project_id,
    project_name,
    county_code,
    prefecture_code,
    prefecture_name,
    county_name,
    fund_source,
    central_funds_wan,
    labor_remuneration_wan,
    workers_total,
    workers_poverty_alleviated,
    start_date,
    end_date,
    ledger_year,
    report_file,
    batch_id,
    source_row,
    ledger_rows - 1 as restatement_count
from ranked
where restatement_rank = 1
