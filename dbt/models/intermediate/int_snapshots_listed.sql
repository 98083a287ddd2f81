-- One row per monitoring snapshot (distinct as_of_month of raw.monitoring_members) with the other
-- snapshots each KPI compares against (SPEC §2):
--   prior_year_end_month   the latest snapshot of Y-1 ("prior year-end"), NULL if Y-1 has none
--   same_month_prior_year  the snapshot of the same month of Y-1, NULL if it was not loaded
--   march_month            the March snapshot of Y, only from the March snapshot on (q1_progress)
--   is_latest_of_year      the snapshot the yearly facts are taken from
with snapshots as (
    select distinct as_of_month from {{ ref('stg_monitoring__members') }}
),

dated as (
    select
        as_of_month,
        cast(extract(year from as_of_month) as integer)  as year,
        cast(extract(month from as_of_month) as integer) as month
    from snapshots
),

year_ends as (
    select year, max(as_of_month) as latest_month from dated group by year
)

select
    d.as_of_month,
    d.year,
    d.month,
    cast({{ dbt.last_day('d.as_of_month', 'month') }} as date) as month_end_date,
    prior_end.latest_month                                 as prior_year_end_month,
    same_month.as_of_month                                 as same_month_prior_year,
    march.as_of_month                                      as march_month,
    (d.as_of_month = this_year.latest_month)               as is_latest_of_year
from dated as d
inner join year_ends as this_year
    on this_year.year = d.year
left join year_ends as prior_end
    on prior_end.year = d.year - 1
left join dated as same_month
    on same_month.year = d.year - 1 and same_month.month = d.month
left join dated as march
    on march.year = d.year and march.month = 3 and d.month >= 3
