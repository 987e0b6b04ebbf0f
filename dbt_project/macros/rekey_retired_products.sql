{#-
    Re-keying of facts when matching merges or splits products (ADR 0026).

    An incremental fact keeps the product_key each of its days was built with.
    When a later build's matching merges two products (one key retires) or splits
    one (a part gets a new key), the older days would reference keys dim_product
    no longer has, or the wrong product. int_product_key_history records every
    (retailer_product_key, product_key) pair and when its current key last
    changed (retired_at). Each re-keyed fact applies the pairs retired since it
    last did, kept per table in `<build schema>._product_rekeys`: in its
    post-hook (build table, same transaction as the build) and in the publish
    (published table, same transaction as the publish). Rows without a retailer
    product (crowd prices keyed by GTIN) follow a key that merged into another.

    Which models: incremental marts with both product_key and
    retailer_product_key columns documented. Each must also say `-- depends_on:
    {{ ref('int_product_key_history') }}` so the history is built first
    (tests/dbt/test_dbt_project.py checks it).
-#}

{% macro rekeys_product_keys(node) -%}
    {%- set columns = node.columns or {} -%}
    {{ return(
        node.resource_type == 'model'
        and 'marts' in node.fqn
        and node.config.materialized == 'incremental'
        and 'product_key' in columns
        and 'retailer_product_key' in columns
    ) }}
{%- endmacro %}

{% macro product_key_history_relation() -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == 'int_product_key_history' -%}
        {{ return(adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.alias or node.name)) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- post-hook of every catalog mart (dbt_project.yml): renders nothing for the others. -#}
{% macro rekey_retired_products() -%}
    {%- if execute and is_incremental() and rekeys_product_keys(model) -%}
do $rekey$
begin
    {{ rekey_block(this.schema ~ '.' ~ this.identifier, this.schema) }}
end
$rekey$
    {%- endif -%}
{%- endmacro %}

{#-
    A PL/pgSQL block (it nests inside the publish's DO block): `target` is a
    schema.table name, `watermark_schema` the schema keeping `_product_rekeys`.
-#}
{% macro rekey_block(target, watermark_schema) -%}
    {%- set history = product_key_history_relation() -%}
<<rekey>>
declare
    target_table regclass := to_regclass({{ "'" ~ target ~ "'" }});
    history_table regclass := to_regclass({{ "'" ~ history ~ "'" }});
    watermarks text := format('%I._product_rekeys', {{ "'" ~ watermark_schema ~ "'" }});
    applied timestamptz;
    latest timestamptz;
begin
    exit rekey when target_table is null or history_table is null;
    execute format(
        'create table if not exists %s (relation text primary key, applied_through timestamptz not null)',
        watermarks
    );
    execute format('select applied_through from %s where relation = $1', watermarks)
        into applied using {{ "'" ~ target ~ "'" }}::text;
    applied := coalesce(applied, '-infinity'::timestamptz);
    execute format('select max(retired_at) from %s', history_table) into latest;
    exit rekey when latest is null or latest <= applied;

    -- One pass over the table: a row with a retailer product follows that pair; a row
    -- without one (a crowd price keyed by GTIN) follows its key only where the key is
    -- gone altogether (a merge), since after a split it still names one of the parts.
    -- The moved pairs go into an analyzed temporary table first: with statistics on the
    -- few moved keys the planner hashes them, not the fact (30M rows spilled to disk).
    drop table if exists pg_temp.moved_product_keys;
    execute format(
        $moved$
        create temporary table moved_product_keys on commit drop as
        select retailer_product_key, product_key, current_product_key
        from %1$s as retired
        where retired.retired_at > $1 and retired.current_product_key is not null
        union all
        (select distinct on (retired.product_key)
            '', retired.product_key, retired.current_product_key
        from %1$s as retired
        where retired.retired_at > $1
            and retired.current_product_key is not null
            and not exists (
                select 1 from %1$s as kept where kept.current_product_key = retired.product_key
            )
        order by retired.product_key asc, retired.current_product_key asc)
        $moved$,
        history_table
    ) using applied;
    analyze pg_temp.moved_product_keys;
    execute format(
        $update$
        update %1$s as facts
        set product_key = moved.current_product_key
        from pg_temp.moved_product_keys as moved
        where facts.product_key = moved.product_key
            and coalesce(facts.retailer_product_key, '') = moved.retailer_product_key
        $update$,
        target_table
    );
    drop table pg_temp.moved_product_keys;

    execute format(
        'insert into %s (relation, applied_through) values ($1, $2)'
        ' on conflict (relation) do update set applied_through = excluded.applied_through',
        watermarks
    ) using {{ "'" ~ target ~ "'" }}::text, latest;
end rekey;
{%- endmacro %}
