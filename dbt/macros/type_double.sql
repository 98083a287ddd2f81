{#- 64-bit floating point type name: `double` on DuckDB and Spark, `double precision` on PostgreSQL
    (dbt.type_float() renders `float`, which is 32-bit on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'zengshou')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double{%- endmacro %}

{% macro postgres__type_double() -%}double precision{%- endmacro %}
