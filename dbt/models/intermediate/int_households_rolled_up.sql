-- Wage income of 脱贫户 per snapshot × region (three levels): PC(Y,M) = Σ 工资性收入 ÷ Σ 家庭人口数
-- (SPEC §2: all members, not only workers; 工资性收入 is year-to-date).
select
    h.as_of_month,
    a.ancestor_code                 as region_code,
    a.ancestor_level                as region_level,
    count(*)                        as households,
    sum(h.wage_income_yuan)         as wage_income_yuan,
    sum(h.household_size)           as household_members
from {{ ref('int_households_deduplicated') }} as h
inner join {{ ref('int_region_ancestors') }} as a
    on a.descendant_code = coalesce(h.county_code, h.prefecture_code, '{{ var("province_code") }}')
where h.is_poverty_household
group by h.as_of_month, a.ancestor_code, a.ancestor_level
