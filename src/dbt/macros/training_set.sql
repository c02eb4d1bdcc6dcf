{#- materialized='training_set': the model's body is
    {{ feature_store.training_set(spine=ref(...), features=[...], ...) }}, which
    compiles to the fs.create_training_set call with pinned versions.  The
    materialization runs it, and unless config keep_unchanged is true drops the
    new version again when it equals the previous one (same checksum, spine,
    pinned feature versions and options), so a `dbt run` that changes nothing
    adds no version.  The model's relation is a view over the version's
    relation (fs_data.<set>_v<N>_training): downstream models, tests and COPY
    read it, and its comment names the version. -#}

{% materialization training_set, adapter='postgres' %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set grant_config = config.get('grants') -%}
  {%- set name = feature_store.training_set_name(model) -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% call statement('main', fetch_result=True) -%}
    {{ sql }}
  {%- endcall %}
  {%- set version = load_result('main')['data'][0][0] -%}
  {%- if version is none -%}
    {{ exceptions.raise_compiler_error("feature_store: model " ~ model.name ~ " is materialized as a training_set: "
        ~ "its body must be {{ feature_store.training_set(...) }}") }}
  {%- endif -%}

  {% set info = feature_store.keep_or_drop_training_set(name, version, config.get('keep_unchanged', false)) %}

  {% if existing_relation is not none %}
    {{ drop_relation_if_exists(existing_relation) }}
  {% endif %}
  {% call statement('fs_training_view') -%}
    create view {{ target_relation }} as select * from {{ info.relation }};
    comment on view {{ target_relation }} is {{ feature_store.lit('feature_store training set ' ~ name ~ ' version ' ~ info.version) }}
  {%- endcall %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- Keeps version `version` of training set `name`, or drops it when it
    equals the previous version.  Returns {'version', 'relation'} of the one kept. -#}
{% macro keep_or_drop_training_set(name, version, keep_unchanged) -%}
  {%- set kept = version -%}
  {%- if not keep_unchanged -%}
    {%- set q -%}
      select p.version
        from fs.training_sets n
        join fs.training_sets p on p.name = n.name and p.version < n.version
       where n.name = {{ feature_store.lit(name) }} and n.version = {{ version | int }}
         and p.checksum = n.checksum and p.spine_hash = n.spine_hash
         and p.features = n.features and p.options = n.options
       order by p.version desc limit 1
    {%- endset -%}
    {%- set same = run_query(q).columns[0].values() -%}
    {%- if same | length > 0 -%}
      {% call statement('fs_drop_duplicate') -%}
        select fs.drop_training_set({{ feature_store.lit(name) }}, {{ version | int }})
      {%- endcall %}
      {%- set kept = same[0] -%}
    {%- endif -%}
  {%- endif -%}
  {%- set r = run_query("select relation::text from fs.training_sets where name = " ~ feature_store.lit(name)
                         ~ " and version = " ~ (kept | int)) -%}
  {{ log("feature_store: training set " ~ name ~ " version " ~ kept
         ~ (" (new)" if kept == version else " (unchanged: version " ~ version ~ " was the same and is dropped)"), info=True) }}
  {{ return({'version': kept, 'relation': r.columns[0].values()[0]}) }}
{%- endmacro %}

{#- dbt run-operation feature_store.copy_training_set --args '{model: churn, path: /srv/churn.csv}':
    server-side COPY of a training set's serving relation (the model's view) to a
    file of the server (needs pg_write_server_files); format csv (with a header)
    or binary; split: only that split.  Clients without that right use psql's
    \copy (select * from <model>) to 'file' instead. -#}
{% macro copy_training_set(model, path, format='csv', split=none) -%}
  {%- set node = feature_store._model_node(model) -%}
  {%- if node is none -%}
    {{ exceptions.raise_compiler_error("feature_store: no model named " ~ model) }}
  {%- endif -%}
  {%- if format not in ('csv', 'binary') -%}
    {{ exceptions.raise_compiler_error("feature_store: format must be csv or binary, not " ~ format) }}
  {%- endif -%}
  {%- set stmt -%}
    copy (select * from {{ node.relation_name }}{% if split is not none %} where split = {{ feature_store.lit(split) }}{% endif %})
      to {{ feature_store.lit(path) }} (format {{ format }}{% if format == 'csv' %}, header{% endif %})
  {%- endset -%}
  {% call statement('fs_copy', fetch_result=True) -%}{{ stmt }}{%- endcall %}
  {{ log("feature_store: " ~ load_result('fs_copy')['response'] ~ " rows of " ~ node.relation_name ~ " to " ~ path, info=True) }}
  {% do adapter.commit() %}
{%- endmacro %}
