{#- materialized='feature_view': builds the model exactly as dbt's table
    materialization does (create <model>__dbt_tmp as ..., rename the model to
    <model>__dbt_backup, rename the tmp to the model, commit, drop the backup
    cascade), and in the same transaction registers the table as a feature
    view and materializes it in full (the rebuilt model may differ anywhere,
    so the run reads all of it: full => true).  The source is the model's
    qualified name, which feature_store resolves by name on every run, so the
    rebuild is picked up; an unchanged definition keeps its version, and
    unchanged rows write nothing, so every `dbt run` can run it.

    Config: entity (required), key_column (required), event_time (required),
    entity_key_type (creates the entity when given), ttl, schedule,
    available_after, feature_view_name (default: the model's name; see
    naming.sql for environments), materialize (default true), owner (default:
    meta.owner), expectations (a list of {name, condition, severity}: the
    view's expectations are made exactly these before it is materialized; needs
    fs.add_expectation).  The model's description and its columns' descriptions are
    the view's and the features' descriptions; its tags are the view's tags. -#}

{% materialization feature_view, adapter='postgres' %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
  {%- set backup_relation_type = 'table' if existing_relation is none else existing_relation.type -%}
  {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
  {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
  {%- set grant_config = config.get('grants') -%}

  {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
  {{ drop_relation_if_exists(preexisting_backup_relation) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% call statement('main') -%}
    {{ get_create_table_as_sql(False, intermediate_relation, sql) }}
  {%- endcall %}

  {% if existing_relation is not none %}
    {% set existing_relation = load_cached_relation(existing_relation) %}
    {% if existing_relation is not none %}
      {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
  {% endif %}
  {{ adapter.rename_relation(intermediate_relation, target_relation) }}
  {% do create_indexes(target_relation) %}

  {#- In the model's transaction: a registration or materialization that fails
      leaves the previous table, view version and storage as they were. -#}
  {% do feature_store.register_model(model, target_relation) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
  {% do persist_docs(target_relation, model) %}

  {{ adapter.commit() }}

  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- The statements that register and materialize a model's feature view
    (sql/dbt_package.sql replays them).  Returns {'view', 'version', 'rows_written'}. -#}
{% macro register_model(node, relation) -%}
  {%- set name = feature_store.feature_view_name(node) -%}
  {%- set entity = config.require('entity') -%}
  {%- set key_column = config.require('key_column') -%}
  {%- set event_time = config.require('event_time') -%}
  {%- set key_type = config.get('entity_key_type') -%}
  {%- set meta = node.config.get('meta') or {} -%}
  {%- set owner = config.get('owner') or meta.get('owner') -%}
  {%- set descriptions = {} -%}
  {%- for col in node.columns.values() -%}
    {%- if col.description and col.name not in (key_column, event_time) -%}
      {%- do descriptions.update({col.name: col.description}) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set tags = node.tags or [] -%}

  {%- if key_type -%}
    {% call statement('fs_entity') -%}
      select fs.create_entity({{ feature_store.lit(entity) }}, {{ feature_store.lit(key_type) }}::regtype)
    {%- endcall %}
  {%- endif -%}
  {% call statement('fs_register', fetch_result=True) -%}
    select fs.register_feature_view(
      name => {{ feature_store.lit(name) }},
      entity => {{ feature_store.lit(entity) }},
      source => {{ feature_store.lit(relation | string) }},
      key_column => {{ feature_store.lit(key_column) }},
      ts_column => {{ feature_store.lit(event_time) }},
      ttl => {{ feature_store.lit(config.get('ttl')) }}::interval,
      schedule => {{ feature_store.lit(config.get('schedule')) }}::interval,
      description => {{ feature_store.lit(node.description or none) }},
      owner => {{ feature_store.lit(owner) }},
      tags => {{ feature_store.text_array(tags) }},
      feature_descriptions => {{ feature_store.lit(tojson(descriptions)) }}::jsonb,
      available_after => {{ feature_store.lit(config.get('available_after')) }}::interval) as version
  {%- endcall %}
  {%- set version = load_result('fs_register')['data'][0][0] -%}
  {%- if config.get('expectations') is not none -%}
    {% do feature_store.sync_expectations(name, config.get('expectations')) %}
  {%- endif -%}
  {%- set written = none -%}
  {%- set status = none -%}
  {%- if config.get('materialize', true) -%}
    {% call statement('fs_materialize', fetch_result=True) -%}
      select rows_written, status from fs.materialize({{ feature_store.lit(name) }}, full => true)
    {%- endcall %}
    {%- set materialized = load_result('fs_materialize')['data'][0] -%}
    {%- set written = materialized[0] -%}
    {%- set status = materialized[1] -%}
  {%- endif -%}
  {#- a batch blocked by an expectation publishes nothing: the previous values
      keep serving, and the feature_expectations test reports it -#}
  {{ log("feature_store: " ~ relation ~ " is feature view " ~ name ~ " version " ~ version
         ~ ("" if written is none else
            (", materialization blocked by expectations (see fs.expectation_results)" if status == 'blocked'
             else ", materialized: " ~ written ~ " rows written")), info=True) }}
  {{ return({'view': name, 'version': version, 'rows_written': written}) }}
{%- endmacro %}

{#- Makes the expectations of feature view `view` exactly `expectations`
    ([{name, condition, severity}], severity default block): drops the ones
    not listed or whose condition changed, then adds each (fs.add_expectation
    is idempotent, and updates a changed severity). -#}
{% macro sync_expectations(view, expectations) -%}
  {%- set wanted = {} -%}
  {%- for e in expectations -%}
    {%- if e is not mapping or not e.get('name') or not e.get('condition') -%}
      {{ exceptions.raise_compiler_error("feature_store: expectations of " ~ view
          ~ " must be a list of {name, condition, severity}, not " ~ e) }}
    {%- endif -%}
    {%- do wanted.update({e['name']: e}) -%}
  {%- endfor -%}
  {%- set q = "select e.name, e.condition from fs.expectations e where e.view = " ~ feature_store.lit(view) -%}
  {%- for row in run_query(q).rows -%}
    {%- if row[0] not in wanted or wanted[row[0]]['condition'] != row[1] -%}
      {% call statement('fs_drop_expectation') -%}
        select fs.drop_expectation({{ feature_store.lit(view) }}, {{ feature_store.lit(row[0]) }})
      {%- endcall %}
    {%- endif -%}
  {%- endfor -%}
  {%- for e in expectations -%}
    {% call statement('fs_add_expectation') -%}
      select fs.add_expectation({{ feature_store.lit(view) }}, {{ feature_store.lit(e['name']) }},
                                {{ feature_store.lit(e['condition']) }}, {{ feature_store.lit(e.get('severity', 'block')) }})
    {%- endcall %}
  {%- endfor -%}
{%- endmacro %}
