-- Region bridge: every region (leaf) × itself and each of its ancestors, so a fact row carrying its
-- most detailed known region (county, else prefecture, else province) rolls up to all three levels
-- with one join:  fact.leaf_region_code = descendant_code  →  group by ancestor_code.
with counties as (
    select county_code, prefecture_code, province_code from {{ ref('yunnan_counties') }}
),

prefectures as (
    select distinct prefecture_code, province_code from counties
)

select county_code as descendant_code, 'county' as descendant_level, county_code as ancestor_code, 'county' as ancestor_level from counties
union all
select county_code, 'county', prefecture_code, 'prefecture' from counties
union all
select county_code, 'county', province_code, 'province' from counties
union all
select prefecture_code, 'prefecture', prefecture_code, 'prefecture' from prefectures
union all
select prefecture_code, 'prefecture', province_code, 'province' from prefectures
union all
select distinct province_code, 'province', province_code, 'province' from counties
