{#-
  One row per snapshot × person of the monitoring export (all members; is_poverty_population tells
  population P), with what the HR platform says about that person AS OF the snapshot. People are
  matched by person_key (HMAC of the normalised 证件号码, staging); an HR row counts for snapshot
  (Y, M) when its date is on or before the snapshot's month end (SPEC §2). The person's region is
  their county in THIS snapshot (leaf_region_code), never the HR platform's county_code.

  Decisions where SPEC §2 leaves room (also in the dbt docs):
    is_trained                completed = true, end_date in Y and <= month end ("a completed training
                              ending in Y"); a training without end_date never counts
    has_certificate_of_year   any certificate issued in Y and <= month end (SPEC does not tie it to
                              the training's trade, nor require it to follow the training)
    holds_post_in_year        an assignment with start_date <= month end and (end_date NULL or
                              end_date >= 1 Jan Y): held at some time in Y up to the snapshot
    held_post_prior_year      an assignment overlapping 1 Jan – 31 Dec of Y-1 (the HR platform keeps
                              history, so Y-1 needs no Y-1 snapshot)
    held_post_prior_year_to_date  an assignment overlapping 1 Jan Y-1 – last day of month M of Y-1:
                              the prior-year count public_post_placements is paced against (SPEC §2.1)
    hr_post_months            months of Y up to M covered by any assignment (reconciliation only)
    is_labor_brand_member     a membership with joined_on <= month end (memberships never end)
    wants_employment          a jobseeker row with wants_employment = true and registered_on <=
                              month end (any such row, whatever its year)
    career_guidance / job_referral / training_referral services: counted (rows) in Y up to month end
-#}
{{ by_month_config() }}
with snapshots as (
    select as_of_month, year, month, month_end_date from {{ ref('int_snapshots_listed') }}
    where {{ in_rebuild('as_of_month') }}
),

members as (
    select * from {{ ref('int_members_classified') }}
    where {{ in_rebuild('as_of_month') }}
),

trained as (
    select s.as_of_month, t.person_key
    from {{ ref('fct_training') }} as t
    inner join snapshots as s
        on t.is_completed and t.end_year = s.year and t.end_date <= s.month_end_date
    group by s.as_of_month, t.person_key
),

certified as (
    select s.as_of_month, c.person_key
    from {{ ref('fct_skill_certificate') }} as c
    inner join snapshots as s
        on c.issued_year = s.year and c.issued_on <= s.month_end_date
    group by s.as_of_month, c.person_key
),

-- months 1..12 of each snapshot's year up to the snapshot month (for hr_post_months)
snapshot_months as (
    select s.as_of_month, s.year, s.month_end_date, m.month_no,
           cast({{ dbt.dateadd('month', 'm.month_no - 1', dbt.cast("s.year || '-01-01'", 'date')) }} as date) as month_start
    from snapshots as s
    inner join (
        select * from (values (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12)) as v (month_no)
    ) as m
        on m.month_no <= s.month
),

posts_current as (
    select
        sm.as_of_month,
        p.person_key,
        count(distinct sm.month_no) as hr_post_months
    from {{ ref('fct_public_welfare_post') }} as p
    inner join snapshot_months as sm
        on p.start_date <= cast({{ dbt.last_day('sm.month_start', 'month') }} as date)
        and (p.end_date is null or p.end_date >= sm.month_start)
    group by sm.as_of_month, p.person_key
),

posts_prior_year as (
    select s.as_of_month, p.person_key
    from {{ ref('fct_public_welfare_post') }} as p
    inner join snapshots as s
        on p.start_date <= {{ dbt.cast("(s.year - 1) || '-12-31'", 'date') }}
        and (p.end_date is null or p.end_date >= {{ dbt.cast("(s.year - 1) || '-01-01'", 'date') }})
    group by s.as_of_month, p.person_key
),

posts_prior_year_to_date as (
    select s.as_of_month, p.person_key
    from {{ ref('fct_public_welfare_post') }} as p
    inner join snapshots as s
        on p.start_date <= cast({{ dbt.last_day(dbt.dateadd('year', -1, 's.as_of_month'), 'month') }} as date)
        and (p.end_date is null or p.end_date >= {{ dbt.cast("(s.year - 1) || '-01-01'", 'date') }})
    group by s.as_of_month, p.person_key
),

brand_members as (
    select s.as_of_month, b.person_key
    from {{ ref('fct_labor_brand_member') }} as b
    inner join snapshots as s
        on b.joined_on <= s.month_end_date
    group by s.as_of_month, b.person_key
),

jobseekers as (
    select s.as_of_month, j.person_key
    from {{ ref('fct_jobseeker') }} as j
    inner join snapshots as s
        on j.wants_employment and j.registered_on <= s.month_end_date
    group by s.as_of_month, j.person_key
),

services as (
    select
        s.as_of_month,
        v.person_key,
        sum(case when v.service_type = 'career_guidance' then 1 else 0 end)   as career_guidance_services,
        sum(case when v.service_type = 'job_referral' then 1 else 0 end)      as job_referral_services,
        sum(case when v.service_type = 'training_referral' then 1 else 0 end) as training_referral_services
    from {{ ref('fct_employment_service') }} as v
    inner join snapshots as s
        on v.service_year = s.year and v.service_date <= s.month_end_date
    group by s.as_of_month, v.person_key
)

select
    m.as_of_month,
    m.year,
    m.person_key,
    m.household_key,
    m.county_code,
    m.prefecture_code,
    m.leaf_region_code,
    m.household_type,
    m.is_poverty_population,
    m.is_employed,
    m.work_region,
    (tr.person_key is not null)                                  as is_trained,
    (ce.person_key is not null)                                  as has_certificate_of_year,
    (pc.person_key is not null)                                  as holds_post_in_year,
    coalesce(pc.hr_post_months, 0)                               as hr_post_months,
    (pp.person_key is not null)                                  as held_post_prior_year,
    (py.person_key is not null)                                  as held_post_prior_year_to_date,
    (bm.person_key is not null)                                  as is_labor_brand_member,
    (js.person_key is not null)                                  as wants_employment,
    (js.person_key is not null and not m.is_employed)            as is_willing_unemployed,
    coalesce(sv.career_guidance_services, 0)                     as career_guidance_services,
    coalesce(sv.job_referral_services, 0)                        as job_referral_services,
    coalesce(sv.training_referral_services, 0)                   as training_referral_services,
    coalesce(sv.career_guidance_services >= 1 and sv.job_referral_services >= 3
             and sv.training_referral_services >= 1, false)      as received_131_services
from members as m
left join trained as tr on tr.as_of_month = m.as_of_month and tr.person_key = m.person_key
left join certified as ce on ce.as_of_month = m.as_of_month and ce.person_key = m.person_key
left join posts_current as pc on pc.as_of_month = m.as_of_month and pc.person_key = m.person_key
left join posts_prior_year as pp on pp.as_of_month = m.as_of_month and pp.person_key = m.person_key
left join posts_prior_year_to_date as py on py.as_of_month = m.as_of_month and py.person_key = m.person_key
left join brand_members as bm on bm.as_of_month = m.as_of_month and bm.person_key = m.person_key
left join jobseekers as js on js.as_of_month = m.as_of_month and js.person_key = m.person_key
left join services as sv on sv.as_of_month = m.as_of_month and sv.person_key = m.person_key
