-- The scorecard spine: every snapshot × every region (province + 16 prefectures + 129 counties), so
-- every KPI has a row even where nothing was measured (status no_data).
select
    s.as_of_month,
    s.year,
    s.month,
    s.month_end_date,
    s.prior_year_end_month,
    s.same_month_prior_year,
    s.march_month,
    r.region_code,
    r.region_level
from {{ ref('int_snapshots_listed') }} as s
cross join {{ ref('int_regions_listed') }} as r
