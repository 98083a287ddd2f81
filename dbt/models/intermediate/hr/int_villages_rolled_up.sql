-- Villages with 脱贫人口 and their 致富带头人 (wealth leaders), per snapshot × region (three levels).
--   village          county_code + trimmed 乡 (township) + trimmed 村 (village) name of a member of
--                    population P in the snapshot (the export has no village code)
--   wealth leaders   distinct people in rural_talent with talent_type = wealth_leader and
--                    certified_on <= the snapshot's month end (a certification does not expire),
--                    counted in the village named by their rural_talent record (matched by county
--                    code + township + village name), whether or not they are 脱贫人口 themselves
--   qualifying       a village with >= 3 such wealth leaders
{{ by_month_config() }}
with snapshots as (
    select as_of_month, month_end_date from {{ ref('int_snapshots_listed') }}
    where {{ in_rebuild('as_of_month') }}
),

villages as (
    select distinct
        c.as_of_month,
        c.leaf_region_code,
        c.county_code,
        coalesce(trim(m.township_name), '') as township_name,
        trim(m.village_name)  as village_name
    from {{ ref('int_members_classified') }} as c
    inner join {{ ref('stg_monitoring__members') }} as m
        on m.as_of_month = c.as_of_month and m.person_key = c.person_key
    where c.is_poverty_population
      and m.village_name is not null
      and {{ in_rebuild('c.as_of_month') }}
      and {{ in_rebuild('m.as_of_month') }}
),

leaders as (
    select s.as_of_month, t.county_code, coalesce(t.township_name, '') as township_name, t.village_name,
           count(distinct t.person_key) as wealth_leaders
    from {{ ref('fct_rural_talent') }} as t
    inner join snapshots as s
        on t.certified_on <= s.month_end_date
    where t.talent_type = 'wealth_leader'
    group by s.as_of_month, t.county_code, coalesce(t.township_name, ''), t.village_name
),

scored as (
    select
        v.as_of_month,
        v.leaf_region_code,
        coalesce(l.wealth_leaders, 0) as wealth_leaders
    from villages as v
    left join leaders as l
        on l.as_of_month = v.as_of_month
        and l.county_code = v.county_code
        and l.township_name = v.township_name
        and l.village_name = v.village_name
)

{% call rolled_up_to_regions('scored as s', 's.leaf_region_code', ['s.as_of_month']) %}
    count(*)                                                        as villages_with_p,
    sum(case when s.wealth_leaders >= 3 then 1 else 0 end)          as villages_with_3_leaders
{% endcall %}
