{#-
  Join condition placing a row dated `on_date` of person `person_key` in the person's monitoring
  county spell (int_person_county_spells): the spell of the latest snapshot on or before the date,
  the first spell for a date before every snapshot, the last spell for a NULL date.
-#}
{% macro in_county_spell(spell, person_key, on_date) -%}
    {{ spell }}.person_key = {{ person_key }}
    and (
        ({{ on_date }} is null and {{ spell }}.valid_to is null)
        or ({{ on_date }} is not null
            and ({{ spell }}.valid_from is null or {{ spell }}.valid_from <= {{ on_date }})
            and ({{ spell }}.valid_to is null or {{ on_date }} < {{ spell }}.valid_to))
    )
{%- endmacro %}
