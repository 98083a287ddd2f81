-- HR-based person counts of 脱贫人口 (population P only) per snapshot × region at the three region
-- levels; a person is placed in their county of the snapshot. Regions without any member of P have
-- no row (the KPI models read them as 0 / no data).
select
    m.as_of_month,
    a.ancestor_code                                                                   as region_code,
    a.ancestor_level                                                                  as region_level,
    count(*)                                                                          as population_p,
    sum(case when m.is_trained then 1 else 0 end)                                     as trained,
    sum(case when m.is_trained and m.has_certificate_of_year then 1 else 0 end)       as trained_certified,
    sum(case when m.is_trained and m.is_employed then 1 else 0 end)                   as trained_employed,
    sum(case when m.holds_post_in_year then 1 else 0 end)                             as post_holders_in_year,
    sum(case when m.held_post_prior_year then 1 else 0 end)                           as post_holders_prior_year,
    sum(case when m.held_post_prior_year_to_date then 1 else 0 end)                   as post_holders_prior_year_to_date,
    sum(case when m.is_labor_brand_member and m.is_employed then 1 else 0 end)        as labor_brand_employed,
    sum(case when m.is_willing_unemployed then 1 else 0 end)                          as willing_unemployed,
    sum(case when m.is_willing_unemployed and m.received_131_services then 1 else 0 end) as willing_unemployed_served_131
from {{ ref('int_members_hr_linked') }} as m
inner join {{ ref('int_region_ancestors') }} as a
    on a.descendant_code = m.leaf_region_code
where m.is_poverty_population
group by m.as_of_month, a.ancestor_code, a.ancestor_level
