--
-- asofdiff_random: randomized differential test of the as-of join operators.
--
-- Every query is run twice, once with the operator (l.ts @>= f.ts, or @> for
-- the strict form) and once in the formulation the SPEC defines it by:
--   LEFT JOIN LATERAL (SELECT * FROM f WHERE <other ON conditions>
--                      AND f.ts <= l.ts ORDER BY f.ts DESC LIMIT 1)
-- (< for @>; JOIN LATERAL for inner joins), and the two results are compared
-- as multisets (counts and EXCEPT ALL both ways).  Datasets are generated
-- from fixed seeds over every supported time type, with NULL keys and
-- times, infinities (NaN too for float8 and numeric), extreme integers,
-- empty sides, one key, many keys, duplicate spine rows, TTL conditions,
-- filters on either side, several key types, with and without an index on
-- (key, time), with feature_store.asof_strategy set to each strategy (merge
-- over sorts, also with a tiny work_mem so sorts spill; merge over an
-- ordered index scan; index probes), LEFT, INNER and RIGHT joins written
-- either way round, and no key at all.  Each compared statement is
-- EXPLAINed first and must contain the as-of join node; the strategy that
-- ran is recorded, and every strategy must have run for every type.
--
-- NaN: PostgreSQL orders it above every number (and NaN = NaN), so in the
-- LATERAL form a NaN spine time sees every feature row, NaN ones included,
-- and a NaN feature time is seen only by NaN spine times (by none for @>);
-- the operators must agree, and infinities are ordinary values.
--
-- Feature rows are unique on (key, time), so "the latest candidate" is
-- always one row and whole rows can be compared.  A mismatch is printed
-- (NOTICE with the seed and both queries) and counted in the summary.
--
-- Mixed time types (spine and feature times of different types among
-- timestamptz, timestamp and date) follow the one rule for event times
-- (README): the bare operator must be refused; the condition
-- fs.historical_features writes (fs_internal.asof_time_condition, the view's
-- column bare, the spine side rounded to days or read in a zone) and the
-- hand-written explicit form (casts and AT TIME ZONE) must both equal the
-- LATERAL reference written with the rule's explicit conversions, on a grid
-- of hours where dates, midnights and zone offsets coincide, across a DST
-- change, with infinities and NULLs, in several zones and session time zones.
--
SET client_min_messages = notice;
SET search_path = public, fs;
SET jit = off;
CREATE SCHEMA asofdiff;

-- The knobs of the core this test drives.
CREATE TABLE asofdiff.config (
	marker		text NOT NULL,	-- substring of EXPLAIN that names the as-of join
	settings	text[] NOT NULL,	-- planner settings "name=value,..." tried in turn
	parallel	text NOT NULL	-- settings for the parallel runs
);
INSERT INTO asofdiff.config VALUES (
	'Custom Scan (AsofJoin)',
	ARRAY['',											-- the planner's choice
		  'feature_store.asof_strategy=merge',
		  'feature_store.asof_strategy=index_probe',		-- (merge, work_mem 64kB without an index)
		  'feature_store.asof_strategy=merge,enable_seqscan=off'],	-- merge over the index
	'parallel_setup_cost=0,parallel_tuple_cost=0,min_parallel_table_scan_size=0,'
	'min_parallel_index_scan_size=0,max_parallel_workers_per_gather=2,parallel_leader_participation=off');

-- The dataset tables, recreated by asofdiff.gen.
CREATE TABLE asofdiff.f ();
CREATE TABLE asofdiff.l ();
CREATE TABLE asofdiff.f_copy ();

-- One row per compared query.
CREATE TABLE asofdiff.results (
	ttype		text,
	dataset		text,
	seed		int,
	indexed		bool,
	settings	text,
	strategy	text,		-- what ran: [parallel] probe, merge-sort, merge-index-scan,
							-- merge-over-index, merge-key-ranges
	jointype	text,
	op			text,
	cond		text,
	n_asof		bigint,
	n_lateral	bigint,
	n_matched	bigint,
	extra		bigint,		-- rows of the as-of result missing from LATERAL's
	missing		bigint,		-- rows of LATERAL's result missing from the as-of's
	plan_ok		bool,
	error		text,
	ms			float8		-- time taken, to keep the test fast
);

-- Statements run through these two (RETURN QUERY may use parallel
-- workers; a cursor or EXECUTE ... INTO may not).
CREATE FUNCTION asofdiff.explain(q text) RETURNS SETOF text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
BEGIN
	RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q;
END
$$;
CREATE FUNCTION asofdiff.compare(q text)
RETURNS TABLE (n_asof bigint, n_lateral bigint, n_matched bigint, extra bigint, missing bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
BEGIN
	RETURN QUERY EXECUTE q;
END
$$;

-- SQL expression of type ttype for the integer grid point t.
CREATE FUNCTION asofdiff.tval(ttype text, t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE ttype
		WHEN 'timestamptz' THEN format($x$(timestamptz '2024-03-09 00:00:00+00' + (%s) * interval '1 hour 7 minutes')$x$, t)
		WHEN 'timestamp' THEN format($x$(timestamp '2024-01-01 00:00:00' + (%s) * interval '1 day 1 second')$x$, t)
		WHEN 'date' THEN format($x$(date '2024-01-01' + (%s))$x$, t)
		WHEN 'int4' THEN format($x$((%s) * 3)$x$, t)
		WHEN 'int8' THEN format($x$((%s)::int8 * 10000000007)$x$, t)
		WHEN 'float8' THEN format($x$((%s)::float8 / 8)$x$, t)
		WHEN 'numeric' THEN format($x$((%s) / 3.0)$x$, t)
	END
$$;

-- SQL expression of type ttype for the hour t of the mixed-type grid: every
-- type on one time line, a date being its day (hours 0-23 of that day).
CREATE FUNCTION asofdiff.mval(ttype text, t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE ttype
		WHEN 'timestamptz' THEN format($x$(timestamptz '2024-03-08 00:00:00+00' + (%s) * interval '1 hour')$x$, t)
		WHEN 'timestamp' THEN format($x$(timestamp '2024-03-08 00:00:00' + (%s) * interval '1 hour')$x$, t)
		WHEN 'date' THEN format($x$(date '2024-03-08' + floor((%s) / 24.0)::int)$x$, t)
	END
$$;

-- The special values of ttype, in order: NULL, the least, the greatest,
-- then NaN where the type has it.
CREATE FUNCTION asofdiff.specials(ttype text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE ttype
		WHEN 'int4' THEN ARRAY['NULL', '(-2147483648)', '2147483647']
		WHEN 'int8' THEN ARRAY['NULL', '(-9223372036854775808)', '9223372036854775807']
		WHEN 'float8' THEN ARRAY['NULL', $x$'-Infinity'::float8$x$, $x$'Infinity'::float8$x$, $x$'NaN'::float8$x$]
		WHEN 'numeric' THEN ARRAY['NULL', $x$'-Infinity'::numeric$x$, $x$'Infinity'::numeric$x$, $x$'NaN'::numeric$x$]
		ELSE ARRAY['NULL', format('%L::%s', '-infinity', ttype), format('%L::%s', 'infinity', ttype)]
	END
$$;

-- A TTL window of about four grid steps, as a constant of the type that
-- "spine time - feature time" has.
CREATE FUNCTION asofdiff.ttl(ttype text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE ttype
		WHEN 'timestamptz' THEN $x$interval '4 hours 30 minutes'$x$
		WHEN 'timestamp' THEN $x$interval '4 days'$x$
		WHEN 'date' THEN '4'
		WHEN 'int4' THEN '12'
		WHEN 'int8' THEN '40000000028'
		WHEN 'float8' THEN '0.5'
		WHEN 'numeric' THEN '1.4'
	END
$$;

-- Expression for a key column: n is the key number (NULL stays NULL).
CREATE FUNCTION asofdiff.kval(keykind text, col int, n text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE
		WHEN keykind = 'text' AND col = 1 THEN format($x$('Key "' || (%s) || E'\u00e9')$x$, n)
		WHEN keykind = 'two' AND col = 1 THEN format('((%s) %% 4)', n)
		WHEN keykind = 'two' AND col = 2 THEN format('chr(97 + (%s) / 4 %% 26)', n)
		WHEN col = 1 THEN format('(%s)', n)
		ELSE 'NULL::text'
	END
$$;

-- Creates asofdiff.f (features) and asofdiff.l (spine) for one dataset.
-- Feature times are grid points in [0, range) and spine times in
-- [-3, range + 3), so spine and feature times coincide often; a fraction
-- pspecial of the times is a special value (NULL, infinities, NaN, extreme
-- integers; specials_nonnull = false keeps only NULL), a fraction pnullkey
-- of the keys is NULL; spine keys include numbers that no feature has; the
-- first ndup spine rows are inserted twice.  Feature rows are deduplicated
-- on (key, time), or on time for the key kind 'none' (no key in the join).
-- With spine_ttype, the spine's times have that type and both sides take
-- their times from the mixed-type grid (hours, about six per feature row of
-- a key).
CREATE FUNCTION asofdiff.gen(ttype text, keykind text, seed int, nkeys int, nfeat int,
							 nspine int, pspecial float8, specials_nonnull bool,
							 pnullkey float8, ndup int, spine_ttype text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
DECLARE
	sp text[] := asofdiff.specials(ttype);
	ssp text[] := asofdiff.specials(coalesce(spine_ttype, ttype));
	nsp int := CASE WHEN specials_nonnull THEN pg_catalog.array_length(sp, 1) ELSE 1 END;
	range int := greatest(10, 2 * nfeat / greatest(nkeys, 1)) * CASE WHEN spine_ttype IS NULL THEN 1 ELSE 6 END;
	margin int := CASE WHEN spine_ttype IS NULL THEN 3 ELSE 18 END;
	fk1 text := CASE keykind WHEN 'text' THEN 'text' WHEN 'cross' THEN 'int8' ELSE 'int4' END;
	lk1 text := CASE keykind WHEN 'text' THEN 'text' ELSE 'int4' END;
	tcase text;
	stcase text;
BEGIN
	PERFORM pg_catalog.setseed(seed / 1000000.0);
	DROP TABLE asofdiff.f, asofdiff.l;
	EXECUTE format('CREATE TABLE asofdiff.f (k1 %s, k2 text, ts %s, v int, w int, flag bool)', fk1, ttype);
	EXECUTE format('CREATE TABLE asofdiff.l (id int, k1 %s, k2 text, ts %s, sflag bool)', lk1,
				   coalesce(spine_ttype, ttype));
	-- CASE over the special index sp (0 = an ordinary grid value).
	-- The spine's numeric times carry trailing zeros (1.0 = 1.00).
	tcase := '';
	stcase := '';
	FOR i IN 1 .. nsp LOOP
		tcase := tcase || format(' WHEN %s THEN %s', i, sp[i]);
		stcase := stcase || format(' WHEN %s THEN %s', i, ssp[i]);
	END LOOP;
	IF spine_ttype IS NOT NULL THEN
		stcase := format('CASE s.sp WHEN 0 THEN %s%s END', asofdiff.mval(spine_ttype, 's.t'), stcase);
		tcase := format('CASE s.sp WHEN 0 THEN %s%s END', asofdiff.mval(ttype, 's.t'), tcase);
	ELSE
		stcase := format('CASE s.sp WHEN 0 THEN %s%s END',
						 CASE WHEN ttype = 'numeric' THEN 'round((s.t) / 3.0, 25)'
							  ELSE asofdiff.tval(ttype, 's.t') END, stcase);
		tcase := format('CASE s.sp WHEN 0 THEN %s%s END', asofdiff.tval(ttype, 's.t'), tcase);
	END IF;
	EXECUTE format($q$
		INSERT INTO asofdiff.f
		SELECT DISTINCT ON (%s) k1, k2, ts, v, w, flag FROM (
			SELECT %s AS k1, %s AS k2, %s AS ts, s.g AS v, s.w, s.flag
			FROM (SELECT g,
						 CASE WHEN random() < %s THEN NULL ELSE floor(random() * %s)::int END AS n,
						 floor(random() * %s)::int AS t,
						 CASE WHEN random() < %s THEN 1 + floor(random() * %s)::int ELSE 0 END AS sp,
						 floor(random() * 100)::int AS w,
						 random() < 0.5 AS flag
				  FROM pg_catalog.generate_series(1, %s) AS g) AS s) AS s2
		ORDER BY %s, v$q$,
		CASE keykind WHEN 'none' THEN 'ts' ELSE 'k1, k2, ts' END,
		asofdiff.kval(keykind, 1, 's.n'), asofdiff.kval(keykind, 2, 's.n'), tcase,
		pnullkey, nkeys, range, pspecial, nsp, nfeat,
		CASE keykind WHEN 'none' THEN 'ts' ELSE 'k1, k2, ts' END);
	EXECUTE format($q$
		INSERT INTO asofdiff.l
		SELECT s.g, %s, %s, %s, random() < 0.5
		FROM (SELECT g,
					 CASE WHEN random() < %s THEN NULL ELSE floor(random() * %s)::int END AS n,
					 floor(random() * %s)::int - %s AS t,
					 CASE WHEN random() < %s THEN 1 + floor(random() * %s)::int ELSE 0 END AS sp
			  FROM pg_catalog.generate_series(1, %s) AS g) AS s$q$,
		asofdiff.kval(keykind, 1, 's.n'), asofdiff.kval(keykind, 2, 's.n'), stcase,
		pnullkey, nkeys + 2, range + 2 * margin, margin, pspecial, nsp, nspine);
	INSERT INTO asofdiff.l SELECT * FROM asofdiff.l ORDER BY id LIMIT ndup;
	ANALYZE asofdiff.f;
	ANALYZE asofdiff.l;
END
$$;

-- Runs one comparison and records it in asofdiff.results.
-- asof_time and lateral_time, when given, replace "l.ts op f.ts" and its
-- LATERAL counterpart (mixed time types).
CREATE FUNCTION asofdiff.run_case(ttype text, dataset text, seed int, keykind text,
								  indexed bool, setno int, jointype text, op text,
								  cond text, spineform int, featform int,
								  selftest bool DEFAULT false, asof_time text DEFAULT NULL,
								  lateral_time text DEFAULT NULL, extra_settings text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
DECLARE
	cfg asofdiff.config;
	keys text[];
	asof_on text[];
	gkeys text[];
	asof_q text;
	lat_q text;
	cmp_q text;
	spine text;
	feat text;
	prefix text := '';
	plan text := '';
	aplan text := '';
	setting text;
	line text;
	r record;
	res asofdiff.results;
	t0 timestamptz := pg_catalog.clock_timestamp();
BEGIN
	SELECT * INTO cfg FROM asofdiff.config;
	keys := CASE WHEN random() < 0.5 THEN ARRAY['f.k1 = l.k1'] ELSE ARRAY['l.k1 = f.k1'] END;
	IF keykind = 'none' THEN
		keys := '{}';
	ELSIF keykind = 'two' THEN
		keys := keys || 'f.k2 = l.k2'::text;
	END IF;
	spine := CASE spineform
		WHEN 0 THEN 'asofdiff.l'
		WHEN 1 THEN '(SELECT * FROM asofdiff.l WHERE id % 5 <> 1) AS'
		ELSE 'spine_cte' END;
	IF spineform = 2 THEN
		prefix := 'WITH spine_cte AS MATERIALIZED (SELECT * FROM asofdiff.l) ';
	END IF;
	-- featform 2: the as-of side reads asofdiff.f_copy, a copy of asofdiff.f
	-- without its index (so the LATERAL reference can still use the index).
	feat := CASE featform
		WHEN 0 THEN 'asofdiff.f'
		WHEN 1 THEN '(SELECT * FROM asofdiff.f WHERE w <> 13) AS'
		ELSE 'asofdiff.f_copy' END;
	-- The operator form: key equalities, the as-of condition and the other
	-- conditions, in a random order.
	asof_on := keys || coalesce(asof_time, format('l.ts %s f.ts', op));
	IF cond <> '' THEN
		asof_on := asof_on || cond;
	END IF;
	SELECT pg_catalog.array_agg(c ORDER BY random()) INTO asof_on FROM pg_catalog.unnest(asof_on) AS c;
	SELECT coalesce(pg_catalog.array_agg(replace(k, 'f.', 'g.')), '{}') INTO gkeys FROM pg_catalog.unnest(keys) AS k;
	-- left and inner: spine first; right and inner-swapped: features first;
	-- left-twice: a second as-of join (the other operator, no other
	-- condition) of the feature table to the same spine.
	asof_q := format('%sSELECT l.id, l.k1, l.k2, l.ts AS lts, f.v, f.ts AS fts, %s AS gv FROM %s ON %s%s', prefix,
					 CASE jointype WHEN 'left-twice' THEN 'g.v' ELSE 'NULL::int' END,
					 CASE jointype
						 WHEN 'inner' THEN format('%s l JOIN %s f', spine, feat)
						 WHEN 'right' THEN format('%s f RIGHT JOIN %s l', feat, spine)
						 WHEN 'inner-swapped' THEN format('%s f JOIN %s l', feat, spine)
						 ELSE format('%s l LEFT JOIN %s f', spine, feat) END,
					 pg_catalog.array_to_string(asof_on, ' AND '),
					 CASE jointype WHEN 'left-twice' THEN
						 format(' LEFT JOIN asofdiff.f g ON %s',
								pg_catalog.array_to_string(gkeys || format('l.ts %s g.ts', CASE op WHEN '@>=' THEN '@>'
																									 ELSE '@>=' END),
														   ' AND '))
					 ELSE '' END);
	lat_q := format('%sSELECT l.id, l.k1, l.k2, l.ts AS lts, f.v, f.ts AS fts, %s AS gv FROM %s l %s '
					'(SELECT * FROM %s f WHERE %s ORDER BY f.ts DESC LIMIT 1) f ON true%s',
					prefix, CASE jointype WHEN 'left-twice' THEN 'g.v' ELSE 'NULL::int' END, spine,
					CASE WHEN jointype IN ('inner', 'inner-swapped') THEN 'JOIN LATERAL' ELSE 'LEFT JOIN LATERAL' END,
					CASE featform WHEN 2 THEN 'asofdiff.f' ELSE feat END,
					pg_catalog.array_to_string(keys || CASE WHEN cond <> '' THEN ARRAY[cond] END
												|| coalesce(lateral_time,
															format('f.ts %s l.ts', CASE WHEN (op = '@>=') <> selftest
																						THEN '<=' ELSE '<' END)),
											   ' AND '),
					CASE jointype WHEN 'left-twice' THEN
						format(' LEFT JOIN LATERAL (SELECT * FROM asofdiff.f g WHERE %s ORDER BY g.ts DESC LIMIT 1) g ON true',
							   pg_catalog.array_to_string(gkeys || format('g.ts %s l.ts', CASE op WHEN '@>=' THEN '<'
																											  ELSE '<=' END),
														  ' AND '))
					ELSE '' END);
	cmp_q := format($q$WITH a AS MATERIALIZED (%s), b AS MATERIALIZED (%s)
		SELECT (SELECT count(*) FROM a) AS n_asof, (SELECT count(*) FROM b) AS n_lateral,
			   (SELECT count(v) FROM a) AS n_matched,
			   (SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b) x) AS extra,
			   (SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a) y) AS missing$q$,
					asof_q, lat_q);
	res := ROW(ttype, dataset, seed, indexed, NULL, NULL, jointype, op, cond,
			   NULL, NULL, NULL, NULL, NULL, false, NULL, NULL);
	BEGIN
		-- Index probes need the index and a key.
		res.settings := CASE WHEN setno = 0 THEN cfg.parallel
							 WHEN (indexed AND keykind <> 'none') OR cfg.settings[setno] NOT LIKE '%index_probe%'
							 THEN cfg.settings[setno]
							 ELSE 'feature_store.asof_strategy=merge,work_mem=64kB' END
						|| coalesce(',' || extra_settings, '');
		res.settings := pg_catalog.btrim(res.settings, ',');
		FOREACH setting IN ARRAY pg_catalog.string_to_array(res.settings, ',') LOOP
			PERFORM pg_catalog.set_config(pg_catalog.split_part(setting, '=', 1),
										  pg_catalog.split_part(setting, '=', 2), true);
		END LOOP;
		FOR line IN SELECT * FROM asofdiff.explain(cmp_q) LOOP
			plan := plan || line || E'\n';
		END LOOP;
		res.plan_ok := pg_catalog.strpos(plan, cfg.marker) > 0;
		-- The strategy, from the as-of query alone (the spine has no index).
		FOR line IN SELECT * FROM asofdiff.explain(asof_q) LOOP
			aplan := aplan || line || E'\n';
		END LOOP;
		res.strategy := CASE WHEN aplan ~ 'Parallel Custom Scan \(AsofJoin\)' THEN 'parallel ' ELSE '' END || CASE
			WHEN aplan ~ 'Strategy: index probe' THEN 'probe'
			WHEN aplan ~ 'Strategy: merge over index' THEN 'merge-over-index'
			WHEN aplan ~ 'Strategy: merge over key ranges' THEN 'merge-key-ranges'
			WHEN aplan ~ 'Strategy: merge' AND aplan ~ 'Index (Only )?Scan' THEN 'merge-index-scan'
			WHEN aplan ~ 'Strategy: merge' THEN 'merge-sort'
			ELSE 'none' END;
		SELECT * INTO r FROM asofdiff.compare(cmp_q);
		res.n_asof := r.n_asof;
		res.n_lateral := r.n_lateral;
		res.n_matched := r.n_matched;
		res.extra := r.extra;
		res.missing := r.missing;
		FOREACH setting IN ARRAY pg_catalog.string_to_array(res.settings, ',') LOOP
			EXECUTE format('RESET %I', pg_catalog.split_part(setting, '=', 1));
		END LOOP;
	EXCEPTION WHEN OTHERS THEN
		res.error := SQLERRM;
	END;
	res.ms := 1000 * extract(epoch FROM pg_catalog.clock_timestamp() - t0);
	IF selftest THEN
		res.dataset := 'self-test';
	END IF;
	INSERT INTO asofdiff.results SELECT res.*;
	IF NOT selftest AND (res.error IS NOT NULL OR NOT res.plan_ok OR res.extra <> 0 OR res.missing <> 0
						 OR res.n_asof <> res.n_lateral) THEN
		RAISE NOTICE 'as-of result differs (type %, dataset %, seed %, indexed %, settings "%", strategy %): % / asof=% lateral=% extra=% missing=%',
			ttype, dataset, seed, indexed, res.settings, res.strategy,
			coalesce(res.error, CASE WHEN res.plan_ok THEN 'rows differ' ELSE 'no as-of plan' END),
			res.n_asof, res.n_lateral, res.extra, res.missing;
		RAISE NOTICE 'as-of query: %', asof_q;
		RAISE NOTICE 'lateral query: %', lat_q;
		IF NOT res.plan_ok THEN
			RAISE NOTICE 'plan: %', plan;
		END IF;
	END IF;
END
$$;

-- Runs every dataset shape for one time type and returns its summary.
CREATE FUNCTION asofdiff.run_type(ttype text, tno int)
RETURNS TABLE (type_name text, datasets int, queries bigint, failures bigint,
			   some_matched bool, some_unmatched bool, strategies text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
DECLARE
	-- name, key kind, keys, feature rows, spine rows, P(special time),
	-- non-NULL specials, P(NULL key), duplicated spine rows, queries per
	-- index state
	shapes CONSTANT text[][] := ARRAY[
		['empty spine',      'int',   '5',  '200',  '0',    '0.1',  't', '0',    '0',  '4'],
		['empty features',   'text',  '5',  '0',    '100',  '0.1',  't', '0',    '0',  '4'],
		['single key',       'int',   '1',  '60',   '80',   '0',    'f', '0',    '10', '10'],
		['many keys',        'text',  '60', '900',  '400',  '0.05', 't', '0.05', '20', '10'],
		['dense, specials',  'two',   '6',  '300',  '300',  '0.15', 't', '0.1',  '30', '10'],
		['nulls, no infs',   'int',   '8',  '200',  '200',  '0.1',  'f', '0.1',  '10', '10'],
		['cross-type key',   'cross', '10', '200',  '150',  '0.05', 't', '0.05', '5',  '4'],
		['large spine',      'int',   '40', '2000', '1500', '0.02', 't', '0.02', '50', '4'],
		['tiny spine',       'two',   '40', '3000', '4',    '0.02', 't', '0',    '2',  '6'],
		['no key',           'none',  '3',  '300',  '200',  '0.05', 't', '0.05', '10', '6']];
	conds text[];
	nstrat int;
	s int;
	seed int;
	nq int;
	c text;
	ttl text := asofdiff.ttl(ttype);
BEGIN
	SELECT pg_catalog.array_length(settings, 1) INTO nstrat FROM asofdiff.config;
	FOR s IN 1 .. pg_catalog.array_length(shapes, 1) LOOP
		seed := tno * 1000 + s;
		PERFORM asofdiff.gen(ttype, shapes[s][2], seed, shapes[s][3]::int, shapes[s][4]::int,
							 shapes[s][5]::int, shapes[s][6]::float8, shapes[s][7]::bool,
							 shapes[s][8]::float8, shapes[s][9]::int);
		-- Other ON conditions: TTL windows, filters on either side, a
		-- condition on both.  A TTL that subtracts times is only used where
		-- no infinities or extreme integers exist (it would raise an error
		-- in either formulation), and the integer types' windows overflow
		-- at the extremes, so they get no TTL then.
		conds := ARRAY['', 'f.flag', 'f.w > 30', 'l.sflag', '(f.w + l.id) % 3 <> 0',
					   '(l.sflag OR f.flag)', 'NOT f.flag AND l.id % 4 <> 0'];
		IF NOT shapes[s][7]::bool OR ttype IN ('float8', 'numeric') THEN
			conds := conds || format('l.ts - f.ts <= %s', ttl)
						   || format('f.flag AND l.ts - f.ts < %s', ttl);
		END IF;
		IF NOT shapes[s][7]::bool OR ttype NOT IN ('int4', 'int8') THEN
			conds := conds || format('f.ts >= l.ts - %s', ttl)
						   || format('f.ts > l.ts - %s AND f.w > 20 AND l.sflag', ttl);
		END IF;
		FOR ix IN 0 .. 1 LOOP
			IF ix = 1 THEN
				IF shapes[s][2] = 'two' THEN
					CREATE INDEX ON asofdiff.f (k2, k1, ts);	-- keys in another order than in ON
				ELSE
					CREATE INDEX ON asofdiff.f (k1, ts);
				END IF;
				ANALYZE asofdiff.f;
			END IF;
			nq := shapes[s][10]::int;
			FOR q IN 1 .. nq LOOP
				c := conds[1 + floor(random() * pg_catalog.array_length(conds, 1))::int];
				PERFORM asofdiff.run_case(ttype, shapes[s][1], seed, shapes[s][2], ix = 1,
										  1 + (q - 1) % nstrat,
										  (ARRAY['left', 'inner', 'left', 'inner', 'right', 'inner-swapped',
												 'left-twice'])[1 + floor(random() * 7)::int],
										  CASE WHEN random() < 0.5 THEN '@>=' ELSE '@>' END,
										  c,
										  CASE WHEN random() < 0.7 THEN 0 ELSE floor(random() * 3)::int END,
										  CASE WHEN random() < 0.8 THEN 0 ELSE 1 END);
			END LOOP;
		END LOOP;
	END LOOP;
	RETURN QUERY
		SELECT r.ttype, pg_catalog.count(DISTINCT r.dataset)::int, pg_catalog.count(*),
			   pg_catalog.count(*) FILTER (WHERE r.error IS NOT NULL OR NOT r.plan_ok OR r.extra <> 0
										   OR r.missing <> 0 OR r.n_asof <> r.n_lateral),
			   pg_catalog.bool_or(r.n_matched > 0),
			   pg_catalog.bool_or(r.n_matched < r.n_asof),
			   pg_catalog.string_agg(DISTINCT r.strategy, ', ' ORDER BY r.strategy)
		FROM asofdiff.results r WHERE r.ttype = run_type.ttype AND r.dataset NOT IN ('self-test', 'parallel')
		GROUP BY r.ttype;
END
$$;

-- Mixed time types: spine times of type stype against feature times of type
-- ftype.  Returns the summary of the pair.
CREATE FUNCTION asofdiff.run_mixed(stype text, ftype text, tno int)
RETURNS TABLE (spine_type text, feature_type text, queries bigint, failures bigint,
			   bare_refused bool, some_matched bool, some_unmatched bool, forms text,
			   retrieval_on_index bool)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
DECLARE
	-- name, key kind, keys, feature rows, spine rows, P(special time),
	-- P(NULL key), duplicated spine rows
	shapes CONSTANT text[][] := ARRAY[
		['mixed, many keys', 'int', '30', '600', '400', '0.05', '0.05', '10'],
		['mixed, dense',     'two', '4',  '300', '300', '0.1',  '0.1',  '10'],
		['mixed, one key',   'int', '1',  '80',  '120', '0.05', '0',    '5']];
	zones CONSTANT text[] := ARRAY['UTC', 'America/New_York', 'Asia/Kolkata'];
	sessions CONSTANT text[] := ARRAY['UTC', 'Europe/Paris', 'America/Los_Angeles', 'Pacific/Chatham'];
	conds CONSTANT text[] := ARRAY['', 'f.flag', 'l.sflag', '(f.w + l.id) % 3 <> 0'];
	ttl CONSTANT interval := '1 day 7 hours';
	label text := stype || ' @> ' || ftype;
	z text;
	sp text;				-- the spine time, explicitly in the type compared in
	fe text;				-- the feature time, likewise
	gen record;
	op text;
	is_strict bool;
	use_ttl bool;
	form text;
	asof_time text;
	lateral_time text;
	seed int;
	refused int := 0;
BEGIN
	FOR s IN 1 .. pg_catalog.array_length(shapes, 1) LOOP
		seed := tno * 1000 + 500 + s;
		PERFORM asofdiff.gen(ftype, shapes[s][2], seed, shapes[s][3]::int, shapes[s][4]::int,
							 shapes[s][5]::int, shapes[s][6]::float8, true, shapes[s][7]::float8,
							 shapes[s][8]::int, stype);
		z := zones[1 + (tno + s) % 3];
		-- The rule, spelled out: a date is the midnight that starts it; a
		-- timestamp or date meets timestamptz in zone z.
		sp := CASE
			WHEN stype = 'timestamptz' THEN format('(l.ts AT TIME ZONE %L)', z)
			WHEN ftype = 'timestamptz' AND stype = 'date' THEN format('(l.ts::timestamp AT TIME ZONE %L)', z)
			WHEN ftype = 'timestamptz' THEN format('(l.ts AT TIME ZONE %L)', z)
			WHEN stype = 'date' THEN 'l.ts::timestamp'
			ELSE 'l.ts' END;
		fe := CASE WHEN ftype = 'date' THEN 'f.ts::timestamp' ELSE 'f.ts' END;
		-- The bare operator is refused, whatever the data.
		BEGIN
			EXECUTE 'EXPLAIN SELECT * FROM asofdiff.l l LEFT JOIN asofdiff.f f ON f.k1 = l.k1 AND l.ts @> f.ts';
		EXCEPTION WHEN datatype_mismatch THEN
			refused := refused + 1;
		END;
		FOR ix IN 0 .. 1 LOOP
			IF ix = 1 THEN
				IF shapes[s][2] = 'two' THEN
					CREATE INDEX ON asofdiff.f (k2, k1, ts);
				ELSE
					CREATE INDEX ON asofdiff.f (k1, ts);
				END IF;
				ANALYZE asofdiff.f;
			END IF;
			FOR q IN 1 .. 4 LOOP
				is_strict := random() < 0.5;
				op := CASE WHEN is_strict THEN '@>' ELSE '@>=' END;
				use_ttl := random() < 0.4;
				-- historical_features' condition, or the hand-written explicit form
				IF q % 2 = 1 THEN
					form := 'retrieval';
					SELECT * INTO gen FROM fs_internal.asof_time_condition('l.ts', stype::regtype, 'f.ts', ftype::regtype,
																			 is_strict, CASE WHEN use_ttl THEN ttl END, z);
					asof_time := gen.asof || coalesce(' AND ' || gen.ttl_condition, '');
				ELSE
					form := 'hand-written';
					asof_time := format('%s %s %s', sp, op, fe)
								 || CASE WHEN use_ttl THEN format(' AND %s >= %s - %L::interval', fe, sp, ttl) ELSE '' END;
				END IF;
				lateral_time := format('%s %s %s', fe, CASE WHEN is_strict THEN '<' ELSE '<=' END, sp)
								|| CASE WHEN use_ttl THEN format(' AND %s >= %s - %L::interval', fe, sp, ttl) ELSE '' END;
				PERFORM asofdiff.run_case(label, shapes[s][1] || ', ' || form, seed, shapes[s][2], ix = 1,
										  -- a cast feature time has no index to probe
										  CASE WHEN form = 'hand-written' AND ftype = 'date' THEN (ARRAY[1, 2, 4])[1 + q % 3]
											   ELSE 1 + (q + s) % 4 END,
										  (ARRAY['left', 'inner', 'right', 'inner-swapped'])[1 + floor(random() * 4)::int],
										  op, conds[1 + floor(random() * 4)::int], 0, 0, false,
										  asof_time, lateral_time,
										  'timezone=' || sessions[1 + floor(random() * 4)::int]);
			END LOOP;
		END LOOP;
	END LOOP;
	RETURN QUERY
		SELECT stype, ftype, pg_catalog.count(*),
			   pg_catalog.count(*) FILTER (WHERE r.error IS NOT NULL OR NOT r.plan_ok OR r.extra <> 0
										   OR r.missing <> 0 OR r.n_asof <> r.n_lateral),
			   refused = pg_catalog.array_length(shapes, 1),
			   pg_catalog.bool_or(r.n_matched > 0),
			   pg_catalog.bool_or(r.n_matched < r.n_asof),
			   pg_catalog.string_agg(DISTINCT pg_catalog.split_part(r.dataset, ', ', 3), ', '),
			   -- the view's column stays bare: the index strategies can run
			   pg_catalog.bool_or(r.strategy IN ('probe', 'merge-over-index')) FILTER (WHERE r.dataset LIKE '%retrieval')
		FROM asofdiff.results r WHERE r.ttype = label;
END
$$;

-- Runs parallel as-of joins (workers share key ranges of the feature side,
-- read from its index or sorted per range) for one time type, on a larger
-- dataset, without and with the index; returns its summary.
CREATE FUNCTION asofdiff.run_parallel(ttype text, tno int)
RETURNS TABLE (type_name text, queries bigint, failures bigint, parallel_strategies text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
DECLARE
	seed int := tno * 1000 + 99;
	conds CONSTANT text[] := ARRAY['', 'f.flag', 'l.sflag', '(f.w + l.id) % 3 <> 0'];
	joins CONSTANT text[] := ARRAY['left', 'inner', 'right', 'left'];
BEGIN
	PERFORM asofdiff.gen(ttype, 'int', seed, 300, 30000, 6000, 0.02, true, 0.02, 20);
	CREATE INDEX ON asofdiff.f (k1, ts);
	ANALYZE asofdiff.f;
	DROP TABLE asofdiff.f_copy;
	CREATE TABLE asofdiff.f_copy AS SELECT * FROM asofdiff.f;
	ANALYZE asofdiff.f_copy;
	FOR q IN 1 .. 2 LOOP
		PERFORM asofdiff.run_case(ttype, 'parallel', seed, 'int', false, 0, joins[q],
								  CASE WHEN q % 2 = 0 THEN '@>' ELSE '@>=' END, conds[q], 0, 2);
	END LOOP;
	FOR q IN 1 .. 4 LOOP
		PERFORM asofdiff.run_case(ttype, 'parallel', seed, 'int', true, 0, joins[q],
								  CASE WHEN q % 2 = 0 THEN '@>' ELSE '@>=' END, conds[q], 0, 0);
	END LOOP;
	RETURN QUERY
		SELECT r.ttype, pg_catalog.count(*),
			   pg_catalog.count(*) FILTER (WHERE r.error IS NOT NULL OR NOT r.plan_ok OR r.extra <> 0
										   OR r.missing <> 0 OR r.n_asof <> r.n_lateral),
			   pg_catalog.string_agg(DISTINCT r.strategy, ', ' ORDER BY r.strategy)
				   FILTER (WHERE r.strategy LIKE 'parallel %')
		FROM asofdiff.results r WHERE r.ttype = run_parallel.ttype AND r.dataset = 'parallel'
		GROUP BY r.ttype;
END
$$;

SELECT * FROM asofdiff.run_type('timestamptz', 1);
SELECT * FROM asofdiff.run_type('timestamp', 2);
SELECT * FROM asofdiff.run_type('date', 3);
SELECT * FROM asofdiff.run_type('int4', 4);
SELECT * FROM asofdiff.run_type('int8', 5);
SELECT * FROM asofdiff.run_type('float8', 6);
SELECT * FROM asofdiff.run_type('numeric', 7);

-- In parallel.
SELECT p.* FROM pg_catalog.unnest(ARRAY['timestamptz', 'timestamp', 'date', 'int4', 'int8', 'float8', 'numeric'])
	WITH ORDINALITY AS t(ty, n), LATERAL asofdiff.run_parallel(t.ty, t.n::int) AS p;

-- Mixed time types, every pair.
SELECT m.* FROM pg_catalog.unnest(ARRAY['timestamptz', 'timestamp', 'date']) WITH ORDINALITY AS s(t, i),
	pg_catalog.unnest(ARRAY['timestamptz', 'timestamp', 'date']) WITH ORDINALITY AS f(t, j),
	LATERAL asofdiff.run_mixed(s.t, f.t, 10 + 3 * s.i::int + f.j::int) AS m
 WHERE s.t <> f.t ORDER BY s.i, f.j;

-- The harness itself: against a reference of the other strictness (< for
-- @>=, <= for @>) it must see differences, since spine and feature times
-- coincide in every dataset shape with matches.
SELECT asofdiff.gen('int8', 'int', 99, 5, 100, 100, 0.05, true, 0.05, 5);
DO $$
BEGIN
	PERFORM asofdiff.run_case('int8', '', 99, 'int', false, 1, j, o, '', 0, 0, true)
	FROM (VALUES ('left', '@>='), ('inner', '@>='), ('left', '@>'), ('inner', '@>')) AS v(j, o);
END
$$;
-- ... and with mixed types, the rule fs.historical_features followed before
-- (a timestamp spine cast down to the feature's date, so a label at 15:00
-- never saw that day's row) differs from the rule (a date is its midnight).
SELECT asofdiff.gen('date', 'int', 98, 5, 100, 100, 0.05, true, 0.05, 5, 'timestamp');
DO $$
BEGIN
	PERFORM asofdiff.run_case('timestamp @> date', '', 98, 'int', false, 1, j, '@>', '', 0, 0, true,
							  'l.ts::date @> f.ts', 'f.ts::timestamp < l.ts')
	FROM (VALUES ('left'), ('inner')) AS v(j);
END
$$;
SELECT ttype, op, jointype, plan_ok, error IS NULL AS no_error, extra + missing > 0 AS detected
FROM asofdiff.results WHERE dataset = 'self-test' ORDER BY ttype, op, jointype;
DELETE FROM asofdiff.results WHERE dataset = 'self-test';

-- Coverage over all types: both operators, both join types, every
-- condition kind, with and without the index, matched and unmatched rows.
SELECT op, jointype, indexed, count(*) > 0 AS ran, bool_or(n_matched > 0) AS some_matched,
	   bool_or(n_matched < n_asof) AS some_unmatched
FROM asofdiff.results GROUP BY op, jointype, indexed ORDER BY 1, 2, 3;
SELECT count(DISTINCT cond) >= 11 AS conditions_covered,
	   count(*) FILTER (WHERE error IS NOT NULL OR NOT plan_ok OR extra <> 0 OR missing <> 0
						OR n_asof <> n_lateral) AS failures
FROM asofdiff.results;

SET client_min_messages = warning;
DROP SCHEMA asofdiff CASCADE;
