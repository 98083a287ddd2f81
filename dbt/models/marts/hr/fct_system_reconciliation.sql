{#-
  Reconciliation of the monitoring system and the HR platform: one row per snapshot × county ×
  check_code (every snapshot × 129 counties × 3 checks), with counts, mismatch rate and whether the
  rate exceeds the reconciliation tolerance.

  check_code (the people compared are the members of the snapshot's monitoring export, all household
  types, matched by person_key; HR rows count when dated on or before the snapshot's month end):
    public_post       people with a 公益性岗位 in either system in year Y up to the snapshot:
                      monitoring 公益性岗位类型 filled or 公益性岗位(月数) > 0, vs HR assignments
                      covering a month of Y up to M. Mismatch = held in only one system, or the
                      exported 公益性岗位(月数) differs from the months of Y (up to M) the HR assignments cover.
    jobseeker_employed jobseekers who want work (wants_employment = true, registered <= month end)
                      and are in the export; mismatch = employed (务工时间 > 0) in the snapshot —
                      they either found work or one system is stale.
    hr_not_in_monitoring distinct people in any HR table (jobseeker, employment_service, training,
                      certificate, post, labour brand, rural talent; rows dated <= month end) vs the
                      snapshot's export; mismatch = not in the export at all. Placed in their export
                      county when found, else in the county of their latest dated HR row that has one
                      (jobseeker, post, labour brand, rural talent); people with no county anywhere are
                      counted under county_code NULL.
  mismatch_rate = mismatches ÷ compared (NULL when nothing was compared).
  tolerance = dbt var reconciliation_tolerance, else env ZENGSHOU_RECONCILIATION_TOLERANCE, else 0.05
  (read when dbt builds this table); exceeds_tolerance = mismatch_rate > tolerance. The Great
  Expectations suite marts.fct_system_reconciliation fails when any row exceeds it.
-#}
{%- set tolerance = var('reconciliation_tolerance', env_var('ZENGSHOU_RECONCILIATION_TOLERANCE', '0.05')) | string | trim -%}
{%- if not (tolerance | float(-1) >= 0 and tolerance | float(-1) <= 1) or tolerance == '' -%}
    {{ exceptions.raise_compiler_error("ZENGSHOU_RECONCILIATION_TOLERANCE must be a number between 0 and 1, not '" ~ tolerance ~ "'") }}
{%- endif -%}
{{ by_month_config() }}
with snapshots as (
    select as_of_month, year, month, month_end_date from {{ ref('int_snapshots_listed') }}
    where {{ in_rebuild('as_of_month') }}
),

members as (
    select * from {{ ref('int_members_hr_linked') }}
    where {{ in_rebuild('as_of_month') }}
),

-- per person of the export with a post (type filled or months > 0) in a row; everyone else has none
-- (has_post NULL reads as 0 below). Only those rows are grouped, not every member row of the month:
-- a row without a post adds nothing to either max.
exported_posts as (
    select
        m.as_of_month,
        m.person_key,
        max(case when m.public_post_type is not null or coalesce(m.public_post_months, 0) > 0 then 1 else 0 end) as has_post,
        max(coalesce(m.public_post_months, 0)) as post_months
    from {{ ref('stg_monitoring__members') }} as m
    where {{ in_rebuild('m.as_of_month') }}
      and (m.public_post_type is not null or coalesce(m.public_post_months, 0) > 0)
    group by m.as_of_month, m.person_key
),

post_check as (
    select
        l.as_of_month,
        l.county_code,
        sum(case when e.has_post = 1 or l.hr_post_months > 0 then 1 else 0 end)           as compared,
        sum(case when (e.has_post = 1 or l.hr_post_months > 0)
                  and not (e.has_post = 1 and l.hr_post_months > 0 and e.post_months = l.hr_post_months)
                 then 1 else 0 end)                                                       as mismatches
    from members as l
    left join exported_posts as e
        on e.as_of_month = l.as_of_month and e.person_key = l.person_key
    group by l.as_of_month, l.county_code
),

jobseeker_check as (
    select
        as_of_month,
        county_code,
        sum(case when wants_employment then 1 else 0 end)                    as compared,
        sum(case when wants_employment and is_employed then 1 else 0 end)    as mismatches
    from members
    group by as_of_month, county_code
),

hr_rows as (
    select person_key, registered_on as row_date, county_code from {{ ref('fct_jobseeker') }}
    union all
    select person_key, service_date, cast(null as {{ dbt.type_string() }}) from {{ ref('fct_employment_service') }}
    union all
    select person_key, coalesce(end_date, start_date), cast(null as {{ dbt.type_string() }}) from {{ ref('fct_training') }}
    union all
    select person_key, issued_on, cast(null as {{ dbt.type_string() }}) from {{ ref('fct_skill_certificate') }}
    union all
    select person_key, start_date, county_code from {{ ref('fct_public_welfare_post') }}
    union all
    select person_key, joined_on, county_code from {{ ref('fct_labor_brand_member') }}
    union all
    select person_key, certified_on, county_code from {{ ref('fct_rural_talent') }}
),

hr_people as (
    select
        s.as_of_month,
        h.person_key,
        arg_max(h.county_code, h.row_date) filter (where h.county_code is not null) as hr_county_code
    from hr_rows as h
    inner join snapshots as s
        on h.row_date <= s.month_end_date
    where h.person_key is not null
    group by s.as_of_month, h.person_key
),

hr_people_placed as (
    select
        p.as_of_month,
        coalesce(m.county_code, case when m.person_key is null then p.hr_county_code end) as county_code,
        (m.person_key is null) as is_missing
    from hr_people as p
    left join members as m
        on m.as_of_month = p.as_of_month and m.person_key = p.person_key
),

hr_check as (
    select as_of_month, county_code, count(*) as compared,
           sum(case when is_missing then 1 else 0 end) as mismatches
    from hr_people_placed
    group by as_of_month, county_code
),

checks as (
    select 'public_post' as check_code, * from post_check
    union all
    select 'jobseeker_employed', * from jobseeker_check
    union all
    select 'hr_not_in_monitoring', * from hr_check
),

spine as (
    select s.as_of_month, s.year, r.region_code as county_code, c.check_code
    from snapshots as s
    cross join (select region_code from {{ ref('int_regions_listed') }} where region_level = 'county') as r
    cross join (select 'public_post' as check_code union all select 'jobseeker_employed'
                union all select 'hr_not_in_monitoring') as c
),

-- the spine, plus rows for people the checks could not place in a known county
keyed as (
    select as_of_month, year, county_code, check_code from spine
    union
    select c.as_of_month, cast(extract(year from c.as_of_month) as integer), c.county_code, c.check_code
    from checks as c
    left join spine as s
        on s.as_of_month = c.as_of_month and s.county_code = c.county_code and s.check_code = c.check_code
    where s.check_code is null and c.compared > 0
),

counted as (
    select
        k.as_of_month,
        k.year,
        k.county_code,
        k.check_code,
        coalesce(c.compared, 0)   as compared_count,
        coalesce(c.mismatches, 0) as mismatch_count
    from keyed as k
    left join checks as c
        on c.as_of_month = k.as_of_month
        and c.check_code = k.check_code
        and c.county_code is not distinct from k.county_code
)

select
    cast(c.as_of_month as date)                                         as as_of_month,
    cast(c.year as integer)                                             as year,
    cast(c.county_code as {{ dbt.type_string() }})                      as county_code,
    cast(r.region_name as {{ dbt.type_string() }})                      as county_name,
    cast(r.parent_code as {{ dbt.type_string() }})                      as prefecture_code,
    cast(c.check_code as {{ dbt.type_string() }})                       as check_code,
    cast(c.compared_count as bigint)                                    as compared_count,
    cast(c.mismatch_count as bigint)                                    as mismatch_count,
    cast({{ safe_ratio('c.mismatch_count', 'c.compared_count') }} as {{ type_double() }}) as mismatch_rate,
    cast({{ tolerance }} as {{ type_double() }})                        as tolerance,
    cast(coalesce({{ safe_ratio('c.mismatch_count', 'c.compared_count') }} > {{ tolerance }}, false) as boolean)
                                                                        as exceeds_tolerance
from counted as c
left join {{ ref('int_regions_listed') }} as r
    on r.region_code = c.county_code
