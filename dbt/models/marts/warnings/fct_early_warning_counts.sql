-- Early-warning counts (SPEC §2.3): persons on the worklist per snapshot × county × reason, complete on
-- that grid (0 when nobody is flagged), for the serving file, marts_zh, analysts and the report. The
-- list itself (marts.fct_early_warning) is for county roles only.
{{ by_month_config() }}
with reasons as (
    select * from (values
        ('stalled', '断工', 1),
        ('returned', '返乡回流', 2),
        ('unserved', '有意愿未就业未服务', 3)
    ) as r (reason, reason_label_zh, reason_order)
),

counties as (
    select region_code as county_code, region_name as county_name, parent_code as prefecture_code
    from {{ ref('int_regions_listed') }}
    where region_level = 'county'
),

counted as (
    select as_of_month, county_code, reason, count(*) as persons
    from {{ ref('int_early_warnings_listed') }}
    where {{ in_rebuild('as_of_month') }}
    group by as_of_month, county_code, reason
)

select
    cast(s.as_of_month as date)                                as as_of_month,
    cast(s.year as integer)                                    as year,
    cast(c.prefecture_code as {{ dbt.type_string() }})         as prefecture_code,
    cast(c.county_code as {{ dbt.type_string() }})             as county_code,
    cast(c.county_name as {{ dbt.type_string() }})             as county_name,
    cast(r.reason as {{ dbt.type_string() }})                  as reason,
    cast(r.reason_label_zh as {{ dbt.type_string() }})         as reason_label_zh,
    cast(coalesce(n.persons, 0) as integer)                    as persons
from {{ ref('int_snapshots_listed') }} as s
cross join counties as c
cross join reasons as r
left join counted as n
    on n.as_of_month = s.as_of_month and n.county_code = c.county_code and n.reason = r.reason
where {{ in_rebuild('s.as_of_month') }}
