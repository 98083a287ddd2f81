{#-
  dbt wraps the model of every generic data test in get_where_subquery (dbt's own macro, overridden here;
  dbt's version applies the test's `where` config only). A test on a model built by month (meta
  zengshou_partition: by_month_config, and the monitoring staging models) looks at the months the build
  rebuilt (a year model: their years), not at every month kept: the other months' rows are the ones
  tested when they were built, unchanged since (issue 12: month 60 costs what month 2 costs). A build that
  rebuilt no month tests none of those rows. Tested whole, as dbt would: every other model, a
  --full-refresh build, and a build without the month request (a plain `dbt build` or `dbt test` by
  hand, which reads no request table; rebuild_months.sql).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set scope = zengshou.rebuilt_rows_only() -%}
    {%- if scope -%}{%- do conditions.append(scope) -%}{%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The condition on the tested model's rows of the months rebuilt, or '' (test every row). `model` is the
    test node here; its attached_node is the model the test is on. -#}
{% macro rebuilt_rows_only() -%}
    {%- if not execute or flags.FULL_REFRESH -%}{{ return('') }}{%- endif -%}
    {%- set attached = model.get('attached_node') if model is mapping else model.attached_node -%}
    {%- set node = graph.nodes.get(attached) if attached else none -%}
    {%- set partition = node.config.meta.get('zengshou_partition') if node else none -%}
    {%- if not partition -%}{{ return('') }}{%- endif -%}
    {%- set months = zengshou.rebuild_months() -%}
    {%- if months is none -%}{{ return('') }}{%- endif -%}
    {%- if partition.by == 'year' -%}
        {{ return(zengshou.years_condition(partition.column, months)) }}
    {%- endif -%}
    {{ return(zengshou.months_condition(partition.column, months)) }}
{%- endmacro %}
