{#-
  The early-warning worklist (就业不稳预警, SPEC §2.3): one row per snapshot (Y, M) × member of
  population P × reason. Rules, for a member of P in snapshot (Y, M):
    stalled  (断工)            employed now (务工时间 > 0, i.e. worked in Y), the person's previous
                               snapshot is (Y, M-1), and 务工时间（月） did not grow from it (no work in
                               month M). Every month without work is flagged again: the list is what
                               county staff should follow up this month, not a first-time alert.
    returned (返乡回流)        out of county (县外省内 / 省外 / 国外) in the previous snapshot of Y (the
                               latest loaded snapshot of the same year before (Y, M), consecutive or not;
                               a January snapshot has none), and now 县内 or not working.
    unserved (有意愿未就业未服务) willing but unemployed (SPEC §2: a jobseeker row with wants_employment
                               registered on or before the month end, not employed), with no
                               employment_service row dated in the 30 days up to the month end
                               (service_date between month end - 29 days and the month end, both included).
  The person is identified by the monitoring system's own 户编号 (household_no, raw household_id) and 人口编号 (person_no, raw person_id),
  what county staff look people up by, taken from the same exported row int_members_classified keeps
  (the first row of a person in the snapshot). 证件号码, 姓名 and phone never get here (staging drops
  them); the list goes to county roles only (marts.fct_early_warning, published with
  zengshou_publish: county_roles_only).
-#}
{{ by_month_config() }}
with snapshots as (
    select
        as_of_month,
        year,
        month,
        month_end_date,
        lag(as_of_month) over (partition by year order by as_of_month) as previous_month_of_year
    from {{ ref('int_snapshots_listed') }}
),

-- the snapshots to build; the previous snapshot of a person (one earlier month) is read in `paired`
classified as (
    select * from {{ ref('int_members_classified') }}
    where {{ in_rebuild('as_of_month') }}
),

-- the rows of those snapshots' previous snapshots of the year only (not every month kept)
previous as (
    select * from {{ ref('int_members_classified') }}
    where as_of_month in (
        select previous_month_of_year from snapshots where {{ in_rebuild('as_of_month') }}
    )
),

hr_linked as (
    select * from {{ ref('int_members_hr_linked') }}
    where {{ in_rebuild('as_of_month') }}
),

paired as (
    select
        c.as_of_month,
        c.year,
        c.person_key,
        c.county_code,
        c.prefecture_code,
        c.is_employed,
        c.months_worked,
        c.work_region,
        s.month_end_date,
        s.previous_month_of_year,
        (s.previous_month_of_year = cast({{ dbt.dateadd('month', -1, 'c.as_of_month') }} as date)) as previous_is_last_month,
        p.person_key is not null                                     as in_previous,
        p.months_worked                                              as previous_months_worked,
        p.work_region                                                as previous_work_region,
        coalesce(p.is_out_of_county, false)                          as previous_out_of_county,
        coalesce(h.is_willing_unemployed, false)                     as is_willing_unemployed
    from classified as c
    inner join snapshots as s
        on s.as_of_month = c.as_of_month
    left join previous as p
        on p.as_of_month = s.previous_month_of_year and p.person_key = c.person_key
    left join hr_linked as h
        on h.as_of_month = c.as_of_month and h.person_key = c.person_key
    where c.is_poverty_population
),

recently_served as (
    select distinct p.as_of_month, p.person_key
    from paired as p
    inner join {{ ref('fct_employment_service') }} as v
        on v.person_key = p.person_key
        and v.service_date <= p.month_end_date
        and v.service_date >= cast({{ dbt.dateadd('day', -29, 'p.month_end_date') }} as date)
    where p.is_willing_unemployed
),

-- materialized: read twice (the rows, the people whose exported row is looked up)
flagged as materialized (
    select p.*, 'stalled' as reason
    from paired as p
    where p.is_employed
      and p.previous_is_last_month
      and p.in_previous
      and p.months_worked <= p.previous_months_worked
    union all
    select p.*, 'returned'
    from paired as p
    where {{ has_returned('p.previous_out_of_county', 'p.is_employed', 'p.work_region') }}
    union all
    select p.*, 'unserved'
    from paired as p
    left join recently_served as r
        on r.as_of_month = p.as_of_month and r.person_key = p.person_key
    where p.is_willing_unemployed
      and r.person_key is null
),

-- 户编号 / 人口编号 / 乡 / 村 of the row int_members_classified keeps (first exported row per person), for
-- the flagged people only: a few of the month's rows ranked, not all of them
exported as (
    select as_of_month, person_key, household_id, person_id, township_name, village_name
    from (
        select
            m.as_of_month, m.person_key, m.household_id, m.person_id, m.township_name, m.village_name,
            row_number() over (partition by m.as_of_month, m.person_key order by m.source_row) as row_rank
        from {{ ref('stg_monitoring__members') }} as m
        where m.person_key is not null
          and {{ in_rebuild('m.as_of_month') }}
          and exists (select 1 from flagged as f where f.as_of_month = m.as_of_month and f.person_key = m.person_key)
    ) as ranked
    where row_rank = 1
)

select
    f.as_of_month,
    f.year,
    f.county_code,
    f.prefecture_code,
    e.township_name,
    e.village_name,
    e.household_id                        as household_no,
    e.person_id                           as person_no,
    f.reason,
    case f.reason
        when 'stalled' then '断工'
        when 'returned' then '返乡回流'
        when 'unserved' then '有意愿未就业未服务'
    end                                   as reason_label_zh,
    f.months_worked,
    f.previous_months_worked,
    f.work_region,
    f.previous_work_region
from flagged as f
left join exported as e
    on e.as_of_month = f.as_of_month and e.person_key = f.person_key
