{#- Names and quoting shared by the package's macros.

    Feature view and training set names are global to a database, so every
    target but production gets its own: production (the targets named by the
    var feature_store_production_targets, default ['prod']) keeps the model's
    name, any other target prefixes it with its schema (dbt_alice__customer_daily).
    A project may override feature_store.environment_name (dispatch) to name
    them otherwise. -#}

{% macro is_production_target() -%}
  {%- set prod = var('feature_store_production_targets', ['prod']) -%}
  {%- if prod is string -%}{%- set prod = [prod] -%}{%- endif -%}
  {{ return(target.name in prod) }}
{%- endmacro %}

{% macro environment_name(base_name) -%}
  {{ return(adapter.dispatch('environment_name', 'feature_store')(base_name)) }}
{%- endmacro %}

{% macro default__environment_name(base_name) -%}
  {%- if feature_store.is_production_target() -%}
    {{ return(base_name) }}
  {%- else -%}
    {{ return(var('feature_store_dev_prefix', target.schema ~ '__') ~ base_name) }}
  {%- endif -%}
{%- endmacro %}

{#- The model node of a model name (only while executing: the graph is empty at parse time). -#}
{% macro _model_node(model_name) -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- for node in graph.nodes.values() -%}
    {%- if node.resource_type == 'model' and node.name == model_name -%}
      {{ return(node) }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(none) }}
{%- endmacro %}

{#- The model node whose relation is rel (a generic test's model argument). -#}
{% macro _node_for_relation(rel) -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- for node in graph.nodes.values() -%}
    {%- if node.resource_type == 'model' and node.relation_name == (rel | string) -%}
      {{ return(node) }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(none) }}
{%- endmacro %}

{#- The feature view name of a model (node or name): its config feature_view_name, or the
    model's name, in this target's environment. -#}
{% macro feature_view_name(model_or_name) -%}
  {%- set node = feature_store._model_node(model_or_name) if model_or_name is string else model_or_name -%}
  {%- set base = model_or_name if node is none else (node.config.get('feature_view_name') or node.name) -%}
  {{ return(feature_store.environment_name(base)) }}
{%- endmacro %}

{% macro training_set_name(model_or_name) -%}
  {%- set node = feature_store._model_node(model_or_name) if model_or_name is string else model_or_name -%}
  {%- set base = model_or_name if node is none else (node.config.get('training_set_name') or node.name) -%}
  {{ return(feature_store.environment_name(base)) }}
{%- endmacro %}

{#- An SQL literal (standard_conforming_strings is on in every supported server), or null. -#}
{% macro lit(value) -%}
  {%- if value is none -%}
    {{ return('null') }}
  {%- else -%}
    {{ return("'" ~ (value | string).replace("'", "''") ~ "'") }}
  {%- endif -%}
{%- endmacro %}

{% macro text_array(values) -%}
  {%- set items = [] -%}
  {%- for v in values -%}{%- do items.append(feature_store.lit(v)) -%}{%- endfor -%}
  {{ return('array[' ~ items | join(', ') ~ ']::text[]') }}
{%- endmacro %}

{#- Whether the extension is installed in the target database. -#}
{% macro extension_installed() -%}
  {%- set r = run_query("select pg_catalog.to_regclass('fs.feature_views') is not null") -%}
  {{ return(r.columns[0].values()[0]) }}
{%- endmacro %}
