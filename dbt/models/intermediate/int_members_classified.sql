{{ by_month_config() }}
-- One row per snapshot × person, classified by the rules of SPEC §2:
--   is_poverty_population  the member's household has 户类型 = 脱贫户 in the same snapshot
--   is_employed            务工时间（月） > 0 (cumulative for the snapshot's year)
--   work_region (employed only, first rule that applies):
--       国外     是否国外务工 = 是
--       省外     务工所在地 starts with a province-level name (full or short form) other than 云南
--       县内     务工所在地 contains the official name of the person's own county (not merely
--                as part of another county's name: 云县 inside 祥云县 does not count)
--       县外省内 otherwise (also when 务工所在地 is empty: the letter of the rule)
--   is_out_of_county       work_region in 县外省内 / 省外 / 国外
--   is_organised           就业渠道 in 政府组织输出 / 劳务中介 (employed only)
--   has_household_row      the member's household has a published row in the same snapshot. Rule
--                          member_without_household: when it has none (its row was quarantined, e.g.
--                          an unknown 县 or a bad 户主证件号码), the 户类型 is unknown, so the member is
--                          not 脱贫人口 (outside every KPI), is left out of fct_employment_duration, and
--                          is counted in int_members_without_household.
-- A person exported twice in one snapshot keeps the first row (staging test warns).
-- People exported more than once in a snapshot (few): their first row and how many. Found by grouping
-- the keys, not by numbering every row of the month in a window that carries all its columns.
with duplicates as (
    select as_of_month, person_key, min(source_row) as first_row, count(*) as duplicate_rows
    from {{ ref('stg_monitoring__members') }}
    where person_key is not null
      and {{ in_rebuild('as_of_month') }}
    group by as_of_month, person_key
    having count(*) > 1
),

members as (
    select
        m.*,
        coalesce(d.duplicate_rows, 1)                             as duplicate_rows,
        (d.person_key is null or m.source_row = d.first_row)      as is_first_row
    from {{ ref('stg_monitoring__members') }} as m
    left join duplicates as d
        on d.as_of_month = m.as_of_month and d.person_key = m.person_key
    where m.person_key is not null
      and {{ in_rebuild('m.as_of_month') }}
),

other_provinces as (
    select full_name, short_name
    from {{ ref('province_level_names') }}
    where short_name <> '{{ var("province_short_name") }}'
),

-- The place rules run on the few distinct (county, 务工所在地) pairs, not on every person row. Read
-- from staging, not from `members`: DuckDB materializes a CTE that is read more than once, and
-- `members` is every person row of the month (read once, below).
location_pairs as (
    select distinct county_code, work_location
    from {{ ref('stg_monitoring__members') }}
    where person_key is not null
      and work_location is not null
      and {{ in_rebuild('as_of_month') }}
),

out_of_province_locations as (
    select distinct m.work_location
    from (select distinct work_location from location_pairs) as m
    inner join other_provinces as p
        on {{ starts_with('m.work_location', 'p.short_name') }}
        or {{ starts_with('m.work_location', 'p.full_name') }}
),

counties as (
    select county_code, county_name_zh, prefecture_code from {{ ref('yunnan_counties') }}
),

-- 务工所在地 that name the person's own county. A county name can hide inside another county's
-- name (云县 in 祥云县): an occurrence explained by such a longer name does not count.
county_shadows as (
    select x.county_code, y.county_name_zh as shadow_name
    from counties as x
    inner join counties as y
        on y.county_code <> x.county_code
        and {{ contains_text('y.county_name_zh', 'x.county_name_zh') }}
),

own_county_candidates as (
    select m.work_location, m.county_code
    from location_pairs as m
    inner join counties as c
        on c.county_code = m.county_code
    where {{ contains_text('m.work_location', 'c.county_name_zh') }}
),

shadowed_candidates as (
    select distinct o.work_location, o.county_code
    from own_county_candidates as o
    inner join county_shadows as s
        on s.county_code = o.county_code
    where {{ contains_text('o.work_location', 's.shadow_name') }}
),

own_county_locations as (
    select o.work_location, o.county_code
    from own_county_candidates as o
    left join shadowed_candidates as x
        on x.work_location = o.work_location and x.county_code = o.county_code
    where x.county_code is null
),

joined as (
    select
        m.as_of_month,
        cast(extract(year from m.as_of_month) as integer)           as year,
        m.person_key,
        m.household_key,
        m.county_code,
        coalesce(c.prefecture_code, m.prefecture_code)              as prefecture_code,
        h.household_type,
        (h.household_key is not null)                               as has_household_row,
        coalesce(h.is_poverty_household, false)                     as is_poverty_population,
        m.labor_skill,
        m.months_worked,
        coalesce(m.months_worked > 0, false)                        as is_employed,
        m.is_abroad,
        m.employment_channel,
        m.yulu_graduation_year,
        case
            when m.is_abroad then '国外'
            when oop.work_location is not null then '省外'
            when own.county_code is not null then '县内'
            else '县外省内'
        end                                                         as location_region,
        m.duplicate_rows
    from members as m
    left join (select * from {{ ref('int_households_deduplicated') }} where {{ in_rebuild('as_of_month') }}) as h
        on h.as_of_month = m.as_of_month
        and h.household_key = m.household_key
    left join out_of_province_locations as oop
        on oop.work_location = m.work_location
    left join own_county_locations as own
        on own.work_location = m.work_location and own.county_code = m.county_code
    left join counties as c
        on c.county_code = m.county_code
    where m.is_first_row
)

select
    as_of_month,
    year,
    person_key,
    household_key,
    county_code,
    prefecture_code,
    coalesce(county_code, prefecture_code, '{{ var("province_code") }}') as leaf_region_code,
    household_type,
    has_household_row,
    is_poverty_population,
    labor_skill,
    months_worked,
    is_employed,
    case when is_employed then location_region end                    as work_region,
    coalesce(is_employed and location_region in ('县外省内', '省外', '国外'), false) as is_out_of_county,
    coalesce(is_employed and location_region in ('省外', '国外'), false)           as is_out_of_province,
    coalesce(is_employed and employment_channel in ('政府组织输出', '劳务中介'), false) as is_organised,
    employment_channel,
    yulu_graduation_year,
    coalesce(yulu_graduation_year = year, false)                      as is_yulu_graduate_of_year,
    duplicate_rows
from joined
