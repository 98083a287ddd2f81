-- Post subsidies due by each snapshot, per snapshot × region (three levels), SPEC §2:
--   due by snapshot (Y, M)  period month T in Y with T <= M-1 (January snapshots: none due)
--   on time and in full     paid_on <= last day of T+1 and amount_paid_yuan >= amount_due_yuan
-- Only subsidies of assignments held by a member of 脱贫人口 in the snapshot count; the subsidy is
-- placed in that person's county of the snapshot. Each payment row is one subsidy due (the HR
-- platform writes one row per assignment × period month); a period without any payment row is not
-- invented as "due".
{{ by_month_config() }}
with snapshots as (
    select as_of_month, year, month from {{ ref('int_snapshots_listed') }}
    where {{ in_rebuild('as_of_month') }}
),

due as (
    select s.as_of_month, p.payment_id, p.person_key, p.is_on_time_and_full
    from {{ ref('fct_subsidy_payment') }} as p
    inner join snapshots as s
        on p.period_year = s.year
        and cast(extract(month from p.period_month) as integer) <= s.month - 1
),

due_in_p as (
    select d.as_of_month, d.is_on_time_and_full, m.leaf_region_code
    from due as d
    inner join (select * from {{ ref('int_members_classified') }} where {{ in_rebuild('as_of_month') }}) as m
        on m.as_of_month = d.as_of_month and m.person_key = d.person_key
    where m.is_poverty_population
)

{% call rolled_up_to_regions('due_in_p as d', 'd.leaf_region_code', ['d.as_of_month']) %}
    count(*)                                                        as subsidies_due,
    sum(case when d.is_on_time_and_full then 1 else 0 end)          as subsidies_on_time_full
{% endcall %}
