{#-
  keyed_hash(expr): HMAC-SHA256(ZENGSHOU_PII_SALT, utf8(expr)) as 64 lower-case hex characters.

  dbt never sees the salt: Settings.dbt_env() passes the two 64-byte key pads
  (K' xor 0x36.., K' xor 0x5c..) as hex in ZENGSHOU_HMAC_INNER_PAD / ZENGSHOU_HMAC_OUTER_PAD, and
      HMAC(K, m) = SHA256(opad || SHA256(ipad || m))
  is evaluated in SQL (verified equal to Python hmac.new(salt, msg, sha256).hexdigest()).
  NULL in -> NULL out. On DuckDB the pads never reach dbt's compiled SQL, manifest or logs: the
  plugin dagster_project.dbt_keyed_hash_plugin defines the session macro from the environment.
-#}
{% macro keyed_hash(expr) -%}
    {{ return(adapter.dispatch('keyed_hash', 'zengshou')(expr)) }}
{%- endmacro %}

{% macro _hmac_pads() -%}
    {#- Non-DuckDB adapters (PostgreSQL, Spark) have no session macro yet: they render the pads, which
        then appear in compiled SQL under dbt/target. DuckDB, the production engine, does not. -#}
    {%- set inner = env_var('ZENGSHOU_HMAC_INNER_PAD', '36' * 64) | trim | lower -%}
    {%- set outer = env_var('ZENGSHOU_HMAC_OUTER_PAD', '5c' * 64) | trim | lower -%}
    {{ return({'inner': inner, 'outer': outer}) }}
{%- endmacro %}

{#- DuckDB: a TEMP macro defined per session by the dbt-duckdb plugin
    dagster_project.dbt_keyed_hash_plugin (dbt/profiles.yml); it refuses to start without valid pads. -#}
{% macro duckdb__keyed_hash(expr) -%}
    zengshou_keyed_hash({{ expr }})
{%- endmacro %}

{% macro postgres__keyed_hash(expr) -%}
    {%- set pads = _hmac_pads() -%}
    encode(sha256(decode('{{ pads.outer }}', 'hex') || sha256(decode('{{ pads.inner }}', 'hex') || convert_to({{ expr }}, 'UTF8'))), 'hex')
{%- endmacro %}

{#- Spark SQL (and engines with the same sha2/unhex/encode functions). -#}
{% macro default__keyed_hash(expr) -%}
    {%- set pads = _hmac_pads() -%}
    sha2(concat(unhex('{{ pads.outer }}'), unhex(sha2(concat(unhex('{{ pads.inner }}'), encode({{ expr }}, 'UTF-8')), 256))), 256)
{%- endmacro %}

{#- key_fingerprint(): the keyed hash of a fixed text, stored in every staged monitoring row. A build
    whose key gives another value knows the HMAC key changed and restages every month, so keys never
    mix (macros/months_to_stage.sql). bench/month_growth.py computes the same value in Python. -#}
{% macro key_fingerprint() -%}
    {{ zengshou.keyed_hash("'zengshou-key-fingerprint'") }}
{%- endmacro %}

{#- The one normalisation of a 证件号码 before hashing, shared by every source so people match
    across the monitoring system and the HR platform: trimmed, upper-case check character 'X'. -#}
{% macro person_key(id_number_expr) -%}
    {{ zengshou.keyed_hash("upper(trim(" ~ id_number_expr ~ "))") }}
{%- endmacro %}

{#- household_key = keyed_hash(county_code || '|' || 户编号), hashed once per distinct (county_code, 户编号)
    of `rows` (a CTE or relation with raw county_code and household_id), to be joined back on
    key_county_code / key_household_id: a household's members share one hash instead of one each, and a
    full refresh hashes a household once for all its months. A NULL part gives no row (hashing it would
    give NULL, which the left join gives too). -#}
{% macro household_keys(rows) -%}
    select
        county_code  as key_county_code,
        household_id as key_household_id,
        {{ zengshou.keyed_hash(dbt.concat(["county_code", "'|'", "household_id"])) }} as household_key
    from (select distinct county_code, household_id from {{ rows }}) as households
    where county_code is not null and household_id is not null
{%- endmacro %}

{#- person_key once per distinct raw 证件号码 in `rows`, to be joined back on key_id_number: for sources
    where one person has many rows. NULL gives no row (the left join gives NULL, as hashing it would). -#}
{% macro person_keys(rows, id_number_column) -%}
    select
        {{ id_number_column }} as key_id_number,
        {{ zengshou.person_key(id_number_column) }} as person_key
    from (select distinct {{ id_number_column }} from {{ rows }}) as people
    where {{ id_number_column }} is not null
{%- endmacro %}
