{#- Use the custom schema verbatim (staging / intermediate / marts / reference) instead of dbt's
    default "<target_schema>_<custom>", so BI tools always find `marts.kpi_scorecard`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
