-- 1 province, 16 prefectures, 129 counties; every county's parent is a prefecture, every
-- prefecture's parent the province.
with counts as (
    select region_level, count(*) as n from {{ ref('dim_region') }} group by region_level
),
expected as (
    select 'province' as region_level, 1 as n
    union all select 'prefecture', 16
    union all select 'county', 129
),
bad_counts as (
    select e.region_level, e.n as expected_n, c.n as actual_n
    from expected as e left join counts as c on c.region_level = e.region_level
    where c.n is null or c.n <> e.n
),
bad_parents as (
    select child.region_code, child.region_level, parent.region_level as parent_level
    from {{ ref('dim_region') }} as child
    left join {{ ref('dim_region') }} as parent on parent.region_code = child.parent_code
    where (child.region_level = 'county' and coalesce(parent.region_level, '') <> 'prefecture')
       or (child.region_level = 'prefecture' and coalesce(parent.region_level, '') <> 'province')
       or (child.region_level = 'province' and child.parent_code is not null)
)
select region_level, cast(expected_n as {{ dbt.type_string() }}) as detail from bad_counts
union all
select region_code, cast(parent_level as {{ dbt.type_string() }}) from bad_parents
