{#-
  rolled_up_to_regions(rows, leaf_region_code, keys): the one roll-up of region facts to every
  ancestor region (county, prefecture, province) through the bridge int_region_ancestors.

      {% call rolled_up_to_regions('scored as s', 's.leaf_region_code', ['s.as_of_month']) %}
          count(*) as villages_with_p
      {% endcall %}

  renders
      select s.as_of_month, ancestors.ancestor_code as region_code, ancestors.ancestor_level as region_level,
             count(*) as villages_with_p
      from scored as s inner join int_region_ancestors as ancestors on ancestors.descendant_code = s.leaf_region_code
      group by s.as_of_month, ancestors.ancestor_code, ancestors.ancestor_level

  rows: the FROM clause (a relation or CTE and its alias, joins allowed; filter in a CTE before, as
  the bridge is joined after it); leaf_region_code:
  the most detailed known region of a row; keys: the select items kept before region_code (grouped by
  position, so an item may be `expr as name` or a constant); the call block: the aggregates. A row
  whose leaf region is not in the bridge is left out (inner join), as in every roll-up.
-#}
{% macro rolled_up_to_regions(rows, leaf_region_code, keys) -%}
    select
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        ancestors.ancestor_code  as region_code,
        ancestors.ancestor_level as region_level,
        {{ caller() }}
    from {{ rows }}
    inner join {{ ref('int_region_ancestors') }} as ancestors
        on ancestors.descendant_code = {{ leaf_region_code }}
    group by {% for i in range(keys | length + 2) %}{{ i + 1 }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}
