-- Employment measures of 脱贫人口 (population P only: 一般农户 members are outside every KPI) per
-- snapshot × region, at the three region levels (via int_region_ancestors). Regions without any
-- member of P in a snapshot have no row here; the KPI models read them as 0.
select
    m.as_of_month,
    a.ancestor_code                                                   as region_code,
    a.ancestor_level                                                  as region_level,
    count(*)                                                          as population_p,
    sum(case when m.is_employed then 1 else 0 end)                    as employed,
    sum(case when m.is_employed then m.months_worked else 0 end)      as employed_months_worked,
    sum(case when m.is_out_of_province then 1 else 0 end)             as employed_out_of_province,
    sum(case when m.is_out_of_county then 1 else 0 end)               as employed_out_of_county,
    sum(case when m.is_out_of_county and m.is_organised then 1 else 0 end) as employed_out_of_county_organised,
    sum(case when m.is_yulu_graduate_of_year then 1 else 0 end)       as yulu_graduates,
    sum(case when m.is_yulu_graduate_of_year and m.is_employed then 1 else 0 end) as yulu_graduates_employed
from {{ ref('int_members_classified') }} as m
inner join {{ ref('int_region_ancestors') }} as a
    on a.descendant_code = m.leaf_region_code
where m.is_poverty_population
group by m.as_of_month, a.ancestor_code, a.ancestor_level
