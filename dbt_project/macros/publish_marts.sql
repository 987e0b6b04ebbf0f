{#-
    Write-audit-publish for the sellable marts (ADR 0024).

    dbt builds every mart model into `<mart>_build` (generate_schema_name), and its
    tests read those tables there. Readers (optimizer, deliveries, GX suites,
    analysts) read `<mart>`, which only `publish_marts`, the project's on-run-end
    hook, writes: after a `dbt build`/`dbt run` in which no node errored, failed or
    was skipped, one statement (a DO block: one transaction) copies every mart
    model of the target from its build schema into the published one. A build
    that is killed never reaches the hook; a build with an error skips it; an
    error inside the publish rolls all of it back. So the published marts are
    always one successful run's set, never two runs mixed.

    The copy stays window-sized (ADR 0008). `record_publish_window`, the
    on-run-start hook, notes each build's day window in `<mart>_build._publish_pending`
    (a killed or failed build's window stays there until a publish covers it).
    For an incremental model (meta.day_window_column) the publish rewrites, in
    the published table, the days inside a pending window and any later day whose
    content differs from the build's (the follow-up rows of fct_price_changes
    and fct_availability, the 30 days after the window of fct_promotions): days
    before the earliest pending window are never read. Table models are copied
    whole. A published table is created (or re-created when its columns differ
    from the build's) with the build's columns and defaults; indexes, primary
    and unique keys missing by name are added, relation and column comments are
    copied each time, and the grants are the schema's default privileges.
-#}

{#- Published mart schema -> the dbt target that builds it. -#}
{% macro published_mart_schemas() -%}
    {{ return({'catalog': 'catalog', 'trends': 'behavior'}) }}
{%- endmacro %}

{% macro _published_schema_of_target() -%}
    {%- for published, target_name in published_mart_schemas().items() -%}
        {%- if target_name == target.name -%}{{ return(published) }}{%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{% macro _builds_marts() -%}
    {{ return(execute and flags.WHICH in ('build', 'run') and _published_schema_of_target() is not none) }}
{%- endmacro %}

{#- on-run-start: remember the window this build rewrites, until a publish covers it. -#}
{% macro record_publish_window() -%}
    {%- if _builds_marts() -%}
        {%- set build_schema = adapter.quote(_published_schema_of_target() ~ '_build') -%}
        create table if not exists {{ build_schema }}._publish_pending (
            from_date date not null,
            to_date date not null,
            recorded_at timestamptz not null default now()
        );
        insert into {{ build_schema }}._publish_pending (from_date, to_date)
        {%- if flags.FULL_REFRESH %}
        values ('-infinity'::date, 'infinity'::date)
        {%- else %}
        values ({{ window_min_date() }}, {{ window_max_date() }})
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- The mart models the target publishes, from the manifest: [name, day column or '', re-keyed] triples. -#}
{% macro _publishable_models(published_schema) -%}
    {%- set models = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='name') -%}
        {%- if node.resource_type == 'model'
            and node.config.schema == published_schema
            and node.config.materialized in ('table', 'incremental') -%}
            {%- set day_column = node.config.meta.get('day_window_column') if node.config.materialized == 'incremental' else none -%}
            {%- do models.append([node.alias or node.name, day_column or '', rekeys_product_keys(node)]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(models) }}
{%- endmacro %}

{#- on-run-end: publish, only when every node of the run succeeded. -#}
{% macro publish_marts(results) -%}
    {%- if _builds_marts() -%}
        {%- set unsuccessful = [] -%}
        {%- for result in results -%}
            {%- if result.status in ('error', 'fail', 'skipped', 'runtime error') -%}
                {%- do unsuccessful.append(result.node.name ~ ': ' ~ result.status) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set published_schema = _published_schema_of_target() -%}
        {%- if unsuccessful -%}
            {{ log('publish of ' ~ published_schema ~ ' skipped: ' ~ unsuccessful | length
                ~ ' node(s) did not succeed (' ~ unsuccessful[:5] | join(', ')
                ~ '); the published marts stay as the last successful build left them', info=True) }}
        {%- else -%}
            {{ log('publishing ' ~ published_schema ~ '_build -> ' ~ published_schema, info=True) }}
            {{ publish_mart_schema(published_schema, published_schema ~ '_build', _publishable_models(published_schema)) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    The publish statement itself: also callable as
    `dbt run-operation publish_mart_schema --args '{published_schema: catalog, build_schema: catalog_build, models: [[dim_store, ""]]}'`
    (a third element, true, re-keys the published table's older days).
-#}
{% macro publish_mart_schema(published_schema, build_schema, models) -%}
do $publish$
declare
    published_schema text := {{ "'" ~ published_schema ~ "'" }};
    build_schema text := {{ "'" ~ build_schema ~ "'" }};
    models text[] := array[
        {%- for model in models %}
        [{{ "'" ~ model[0] ~ "'" }}, {{ "'" ~ model[1] ~ "'" }}]{{ "," if not loop.last }}
        {%- endfor %}
    ]::text[];
    pending_from date;
    model_name text;
    day_column text;
    build_table regclass;
    published_table text;
    published_oid regclass;
    recreate boolean;
    rewrite_days date[];
    key_row record;
    index_row record;
    column_row record;
begin
    if to_regclass(format('%I._publish_pending', build_schema)) is not null then
        execute format('select min(from_date) from %I._publish_pending', build_schema) into pending_from;
    end if;
    -- No window recorded (a publish run on its own): compare every day.
    pending_from := coalesce(pending_from, '-infinity'::date);

    for i in 1 .. coalesce(array_length(models, 1), 0) loop
        model_name := models[i][1];
        day_column := nullif(models[i][2], '');
        build_table := to_regclass(format('%I.%I', build_schema, model_name));
        -- Not built (yet) in this schema: leave the published table as it is.
        continue when build_table is null;
        published_table := format('%I.%I', published_schema, model_name);
        published_oid := to_regclass(published_table);

        -- Same columns, same order, same types, or the published table is created again.
        recreate := published_oid is null or (
            select string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' order by attnum)
            from pg_attribute where attrelid = build_table and attnum > 0 and not attisdropped
        ) is distinct from (
            select string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' order by attnum)
            from pg_attribute where attrelid = published_oid and attnum > 0 and not attisdropped
        );
        if recreate then
            execute format('drop table if exists %s', published_table);
            execute format(
                'create table %s (like %s including defaults including constraints including generated)',
                published_table, build_table
            );
            execute format('insert into %s select * from %s', published_table, build_table);
        elsif day_column is null then
            -- A table model is rebuilt whole by every run: so is its published copy. DELETE, not
            -- TRUNCATE: readers keep reading the old rows (MVCC) until the publish commits.
            execute format('delete from %s', published_table);
            execute format('insert into %s select * from %s', published_table, build_table);
        else
            -- The days a pending window rewrote, and any later day whose rows changed with it
            -- (same count and same sum of row hashes on both sides: unchanged).
            execute format(
                $days$
                select coalesce(array_agg(day), '{}')
                from (
                    select %1$I as day, count(*) as row_count, sum(hashtextextended(t::text, 0)::numeric) as row_hash
                    from %2$s as t where %1$I >= $1 group by 1
                ) as built
                full join (
                    select %1$I as day, count(*) as row_count, sum(hashtextextended(t::text, 0)::numeric) as row_hash
                    from %3$s as t where %1$I >= $1 group by 1
                ) as published using (day)
                where built.row_count is distinct from published.row_count
                    or built.row_hash is distinct from published.row_hash
                    or exists (
                        select 1 from %4$I._publish_pending as pending
                        where day between pending.from_date and pending.to_date
                    )
                $days$,
                day_column, build_table, published_table, build_schema
            ) into rewrite_days using pending_from;
            if cardinality(rewrite_days) > 0 then
                execute format('delete from %s where %I = any($1)', published_table, day_column)
                    using rewrite_days;
                execute format('insert into %s select * from %s where %I = any($1)', published_table, build_table, day_column)
                    using rewrite_days;
            end if;
        end if;
        published_oid := to_regclass(published_table);

        -- Keys and indexes the published table lacks, compared by definition: a table model's
        -- build gets new constraint names each run (dbt builds it as <name>__dbt_tmp, so
        -- <name>__dbt_tmp_pkey, ..._pkey1). Added after the rows: one index build, not one
        -- insert per index entry. A named index keeps its name (the post-hooks' indexes).
        for key_row in
            select pg_get_constraintdef(oid) as definition
            from pg_constraint
            where conrelid = build_table and contype in ('p', 'u')
            except
            select pg_get_constraintdef(oid)
            from pg_constraint
            where conrelid = published_oid and contype in ('p', 'u')
        loop
            if key_row.definition like 'PRIMARY KEY%' then
                -- the build's key changed: the published one follows
                for index_row in
                    select conname from pg_constraint where conrelid = published_oid and contype = 'p'
                loop
                    execute format('alter table %s drop constraint %I', published_table, index_row.conname);
                end loop;
            end if;
            execute format('alter table %s add %s', published_table, key_row.definition);
        end loop;
        for index_row in
            select index_class.relname as index_name, pg_get_indexdef(index_class.oid) as definition
            from pg_index join pg_class as index_class on index_class.oid = pg_index.indexrelid
            where pg_index.indrelid = build_table
                and not exists (select 1 from pg_constraint where conindid = pg_index.indexrelid)
                and regexp_replace(pg_get_indexdef(index_class.oid), '^.*? USING ', '') not in (
                    select regexp_replace(pg_get_indexdef(indexrelid), '^.*? USING ', '')
                    from pg_index where indrelid = published_oid
                )
        loop
            if to_regclass(format('%I.%I', published_schema, index_row.index_name)) is null then
                execute replace(
                    index_row.definition,
                    ' ON ' || quote_ident(build_schema) || '.',
                    ' ON ' || quote_ident(published_schema) || '.'
                );
            else
                execute format(
                    'create %s index on %s using %s',
                    case when index_row.definition like 'CREATE UNIQUE %' then 'unique' else '' end,
                    published_table, regexp_replace(index_row.definition, '^.*? USING ', '')
                );
            end if;
        end loop;

        -- persist_docs wrote the comments on the build table; analysts read them on the published one.
        if obj_description(published_oid, 'pg_class') is distinct from obj_description(build_table, 'pg_class') then
            execute format('comment on table %s is %L', published_table, obj_description(build_table, 'pg_class'));
        end if;
        for column_row in
            select attname, attnum from pg_attribute where attrelid = build_table and attnum > 0 and not attisdropped
        loop
            if col_description(published_oid, (
                select attnum from pg_attribute where attrelid = published_oid and attname = column_row.attname
            )) is distinct from col_description(build_table, column_row.attnum) then
                execute format(
                    'comment on column %s.%I is %L',
                    published_table, column_row.attname, col_description(build_table, column_row.attnum)
                );
            end if;
        end loop;
    end loop;

    -- Days before the pending windows were not copied: their rows follow merged or split
    -- products here, as the build's did in its post-hooks (ADR 0026).
    {%- for model in models if model | length > 2 and model[2] %}
    {{ rekey_block(published_schema ~ '.' ~ model[0], build_schema) }}
    {%- endfor %}

    if to_regclass(format('%I._publish_pending', build_schema)) is not null then
        execute format('delete from %I._publish_pending', build_schema);
    end if;
end
$publish$
{%- endmacro %}
