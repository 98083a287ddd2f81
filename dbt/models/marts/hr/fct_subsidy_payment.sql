-- One row per post subsidy payment row (SPEC §3.2 subsidy_payment) = one subsidy due for one
-- assignment and period month T. SPEC §2: on time when paid_on <= the last day of month T+1; in full
-- when amount_paid_yuan >= amount_due_yuan. An unpaid row (paid_on NULL) is neither; a NULL amount
-- is not "in full". person_key comes from the assignment (NULL when the assignment is unknown:
-- such a payment cannot be placed in any region and is outside the KPI). county_code /
-- prefecture_code are those of the assignment (fct_public_welfare_post: the HR platform's county of
-- the post), so a payment is visible to exactly the roles that see its post; NULL when the assignment
-- is unknown or has no county (row-level security: province/analyst roles only).
with payments as (
    select * from {{ ref('stg_hr__subsidy_payment') }}
),

posts as (
    select p.assignment_id, p.person_key, p.county_code, c.prefecture_code
    from {{ ref('stg_hr__public_welfare_post') }} as p
    left join {{ ref('yunnan_counties') }} as c
        on c.county_code = p.county_code
),

dated as (
    select
        p.*,
        a.person_key,
        a.county_code,
        a.prefecture_code,
        cast({{ dbt.last_day(dbt.dateadd('month', 1, 'p.period_start'), 'month') }} as date) as on_time_deadline
    from payments as p
    left join posts as a
        on a.assignment_id = p.assignment_id
)

select
    payment_id,
    assignment_id,
    person_key,
    county_code,
    prefecture_code,
    period_start                                               as period_month,
    cast(extract(year from period_start) as integer)           as period_year,
    amount_due_yuan,
    amount_paid_yuan,
    paid_on,
    on_time_deadline,
    coalesce(amount_paid_yuan >= amount_due_yuan, false)                               as is_paid_in_full,
    coalesce(paid_on <= on_time_deadline, false)                                       as is_on_time,
    coalesce(amount_paid_yuan >= amount_due_yuan and paid_on <= on_time_deadline, false)
                                                               as is_on_time_and_full
from dated
