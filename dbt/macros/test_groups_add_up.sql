{#- Generic test: within every group dimension, the groups add up to the total. For each key (e.g.
    as_of_month × region_code × kpi_code) and each dimension of `model` other than the total, the sum of
    every column over the dimension's groups must equal the total's value (NULL = NULL: a total that is
    NULL because its compared snapshot is missing is NULL in every group too). The total is the row of
    `model` whose dimension_column is total_value, or, given `totals`, the row of that relation.
    Returns the dimension × key × column cells that do not add up. -#}
{% test groups_add_up(model, keys, columns, totals=none, dimension_column='group_dimension', total_value='all') %}
with groups as (
    select {{ keys | join(', ') }}, {{ dimension_column }},
           {% for c in columns %}sum({{ c }}) as {{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ model }}
    where {{ dimension_column }} <> '{{ total_value }}'
    group by {{ keys | join(', ') }}, {{ dimension_column }}
),

totals as (
    select {{ keys | join(', ') }}, {% for c in columns %}{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
    {% if totals is none %}
    from {{ model }}
    where {{ dimension_column }} = '{{ total_value }}'
    {% else %}
    from {{ totals }}
    {% endif %}
)

{% for c in columns %}
select {% for k in keys %}g.{{ k }}, {% endfor %}g.{{ dimension_column }}, '{{ c }}' as column_name,
       cast(g.{{ c }} as {{ type_double() }}) as groups_sum, cast(t.{{ c }} as {{ type_double() }}) as total
from groups as g
left join totals as t
    on {% for k in keys %}t.{{ k }} = g.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
where t.{{ keys[0] }} is null or g.{{ c }} is distinct from t.{{ c }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
{% endtest %}
