--
-- retrieval_time_types: one rule for event times, on every path.  For each
-- pair of spine and event time types (timestamptz, timestamp, date), the SQL
-- of fs.historical_features and the hand-written as-of join in its explicit
-- form (README "One rule for event times") give the same rows, which are
-- worked out by hand below; neither depends on the session's time zone; the
-- forms that would are refused.
--
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SCHEMA rtt;
SELECT fs.create_entity('rtt_user', 'int');

-- The same events as instants, as UTC wall times, and a daily table.
CREATE TABLE rtt.events (user_id int, at timestamptz, v int);
INSERT INTO rtt.events VALUES
	(1, '2024-01-01 23:00+00', 1), (1, '2024-01-02 09:00+00', 2),
	(1, '2024-01-02 15:00+00', 3), (1, '2024-01-03 00:00+00', 4);
CREATE TABLE rtt.daily (user_id int, day date, v int);
INSERT INTO rtt.daily VALUES (1, '2024-01-01', 10), (1, '2024-01-02', 20), (1, '2024-01-03', 30);
SELECT fs.register_feature_view('rtt_tz', 'rtt_user', 'SELECT user_id, at, v FROM rtt.events', 'user_id', 'at');
SELECT fs.register_feature_view('rtt_ts', 'rtt_user', $$SELECT user_id, at AT TIME ZONE 'UTC' AS at, v FROM rtt.events$$,
								 'user_id', 'at');
SELECT fs.register_feature_view('rtt_day', 'rtt_user', 'rtt.daily', 'user_id', 'day');
SELECT rows_written FROM fs.materialize('rtt_tz', full => true);
SELECT rows_written FROM fs.materialize('rtt_ts', full => true);
SELECT rows_written FROM fs.materialize('rtt_day', full => true);

-- Labels A-D, their time as an instant (ts), a UTC wall time (t) and a day (d).
CREATE TABLE rtt.labels (id text, user_id int, ts timestamptz, t timestamp, d date);
INSERT INTO rtt.labels
SELECT id, 1, ts, ts AT TIME ZONE 'UTC', (ts AT TIME ZONE 'UTC')::date
  FROM (VALUES ('A', timestamptz '2024-01-02 00:00+00'), ('B', '2024-01-02 12:00+00'),
			   ('C', '2024-01-03 00:00+00'), ('D', '2024-01-01 23:30+00')) AS x(id, ts);

-- The explicit form of "spine @> feature" for a pair of types, as written by
-- hand: a date is the midnight that starts it (date::timestamp), and a
-- timestamp or date meets timestamptz in a named zone (AT TIME ZONE).
CREATE FUNCTION rtt.explicit(scol text, stype regtype, fcol text, ftype regtype, zone text,
							 OUT s text, OUT f text) LANGUAGE sql AS $$
	SELECT CASE
			 WHEN stype = 'timestamptz'::regtype AND ftype <> 'timestamptz'::regtype
			 THEN format('(l.%I AT TIME ZONE %L)', scol, zone)
			 WHEN stype = 'date'::regtype AND ftype = 'timestamptz'::regtype
			 THEN format('(l.%I::timestamp AT TIME ZONE %L)', scol, zone)
			 WHEN stype = 'timestamp'::regtype AND ftype = 'timestamptz'::regtype
			 THEN format('(l.%I AT TIME ZONE %L)', scol, zone)
			 WHEN stype = 'date'::regtype AND ftype = 'timestamp'::regtype THEN format('l.%I::timestamp', scol)
			 ELSE format('l.%I', scol) END,
		   CASE WHEN ftype = 'date'::regtype AND stype <> 'date'::regtype THEN format('f.%I::timestamp', fcol)
				ELSE format('f.%I', fcol) END
$$;

-- Every pair, strict and not: the values labels A-D get from
-- fs.historical_features (time_zone => 'UTC') and from the hand-written join.
CREATE FUNCTION rtt.matrix(zone text DEFAULT 'UTC')
RETURNS TABLE (spine text, view text, op text, retrieval int[], hand_written int[]) LANGUAGE plpgsql AS $$
DECLARE
	c record;
	v record;
	e record;
	q text;
BEGIN
	FOR c IN SELECT * FROM (VALUES (1, 'ts', 'timestamptz'::regtype), (2, 't', 'timestamp'), (3, 'd', 'date')) x(n, col, typ) ORDER BY n LOOP
		FOR v IN SELECT * FROM (VALUES (1, 'rtt_tz', 'at', 'timestamptz'::regtype), (2, 'rtt_ts', 'at', 'timestamp'),
										(3, 'rtt_day', 'day', 'date')) y(n, name, col, typ) ORDER BY n LOOP
			FOR st IN 0 .. 1 LOOP
				spine := format('%s %s', c.col, c.typ);
				view := format('%s (%s)', v.name, v.typ);
				op := CASE WHEN st = 0 THEN '@>' ELSE '@>=' END;
				q := fs.historical_features('rtt.labels', ARRAY[v.name || ':v']::fs.feature_ref[], 'user_id', c.col,
											strict => st = 0, time_zone => zone);
				EXECUTE format('SELECT array_agg(%I ORDER BY id) FROM (%s) AS r', v.name || '__v', q) INTO retrieval;
				e := rtt.explicit(c.col, c.typ, v.col, v.typ, zone);
				EXECUTE format('SELECT array_agg(f.v ORDER BY l.id) FROM rtt.labels l LEFT JOIN fs_data.%I f '
							   'ON f.user_id = l.user_id AND %s %s %s', v.name || '_v1', e.s, op, e.f) INTO hand_written;
				RETURN NEXT;
			END LOOP;
		END LOOP;
	END LOOP;
END
$$;

-- Labels A (01-02 00:00), B (01-02 12:00), C (01-03 00:00), D (01-01 23:30):
-- events at 01-01 23:00 (1), 01-02 09:00 (2), 15:00 (3), 01-03 00:00 (4);
-- days 01-01 (10), 01-02 (20), 01-03 (30), each starting at its midnight.
--  instants or wall times, strict:  {1,2,3,1}; days: {10,20,20,10}
--  instants or wall times, not:     {1,2,4,1}; days: {20,20,30,10}
--  the label's day (its midnight), strict: {1,1,3,NULL}; days: {10,10,20,NULL}
--  the label's day, not:                   {1,1,4,NULL}; days: {20,20,30,10}
SELECT * FROM rtt.matrix();
CREATE TABLE rtt.utc AS SELECT * FROM rtt.matrix();

-- Neither path depends on the session's time zone.
SET timezone = 'America/Los_Angeles';
SELECT count(*) AS pairs, count(*) FILTER (WHERE (m.*) IS DISTINCT FROM (u.*)) AS differing
  FROM rtt.matrix() m JOIN rtt.utc u USING (spine, view, op);
SET timezone = 'Asia/Kathmandu';
SELECT count(*) AS pairs, count(*) FILTER (WHERE (m.*) IS DISTINCT FROM (u.*)) AS differing
  FROM rtt.matrix() m JOIN rtt.utc u USING (spine, view, op);

-- Another zone is another question, asked explicitly: in New York, label A
-- (01-01 19:00 there) comes before day 01-02 begins, and for label C
-- (01-02 19:00) day 01-03 has not begun: {10,20,20,10} either way.
SELECT * FROM rtt.matrix('America/New_York') WHERE view LIKE 'rtt_day%' AND spine LIKE 'ts %';
SET timezone = 'UTC';

-- What the generated SQL looks like for each conversion.
SELECT fs.historical_features('rtt.labels', '{rtt_tz:v, rtt_ts:v, rtt_day:v}', 'user_id', 'ts', time_zone => 'UTC');
SELECT fs.historical_features('rtt.labels', '{rtt_tz:v, rtt_ts:v, rtt_day:v}', 'user_id', 't', time_zone => 'UTC',
							  strict => false);
SELECT fs.historical_features('rtt.labels', '{rtt_tz:v, rtt_ts:v}', 'user_id', 'd', time_zone => 'UTC');
-- known_at compares created times with the spine's instant.
SELECT fs.historical_features('rtt.labels', '{rtt_day:v}', 'user_id', 'd', known_at => true, time_zone => 'UTC');

-- Refused: a pair that needs a zone without one, known_at with a spine
-- time that is not an instant without one, an unknown zone.
\set VERBOSITY terse
SELECT fs.historical_features('rtt.labels', '{rtt_day:v}', 'user_id', 'ts');
SELECT fs.historical_features('rtt.labels', '{rtt_tz:v}', 'user_id', 't');
SELECT fs.historical_features('rtt.labels', '{rtt_tz:v}', 'user_id', 'd');
SELECT fs.historical_features('rtt.labels', '{rtt_ts:v}', 'user_id', 'ts');
SELECT fs.historical_features('rtt.labels', '{rtt_ts:v}', 'user_id', 't', known_at => true);
SELECT fs.historical_features('rtt.labels', '{rtt_ts:v}', 'user_id', 't', time_zone => 'Mars/Olympus');
-- ... while the pairs without a zone in them need none.
SELECT count(*) FROM (SELECT fs.historical_features('rtt.labels', '{rtt_ts:v, rtt_day:v}', 'user_id', c)
						FROM unnest(ARRAY['t', 'd']) c) x;

-- Written by hand, every operator between different time types is refused
-- when the query is planned, with a hint naming the explicit form.
\set VERBOSITY default
SELECT l.id, f.v FROM rtt.labels l LEFT JOIN fs_data.rtt_day_v1 f ON f.user_id = l.user_id AND l.ts @> f.day;
SELECT l.id, f.v FROM rtt.labels l LEFT JOIN fs_data.rtt_ts_v1 f ON f.user_id = l.user_id AND l.d @>= f.at;
\set VERBOSITY terse
DO $$
DECLARE
	o record;
	refused int := 0;
BEGIN
	FOR o IN SELECT oprname, oprleft::regtype AS l, oprright::regtype AS r FROM pg_operator
			  WHERE oprname IN ('@>', '@>=') AND oprleft <> oprright
				AND oprleft = ANY (ARRAY['timestamptz', 'timestamp', 'date']::regtype[])
				AND oprright = ANY (ARRAY['timestamptz', 'timestamp', 'date']::regtype[]) LOOP
		BEGIN
			-- on empty tables: the refusal does not depend on the data
			EXECUTE format('EXPLAIN SELECT * FROM (SELECT 1 AS k, NULL::%s AS t WHERE false) l '
						   'LEFT JOIN (SELECT 1 AS k, NULL::%s AS t WHERE false) f ON f.k = l.k AND l.t %s f.t',
						   o.l, o.r, o.oprname);
		EXCEPTION WHEN datatype_mismatch THEN
			refused := refused + 1;
		END;
	END LOOP;
	RAISE WARNING '% of 12 operators between different time types refused', refused;
END
$$;

DROP SCHEMA rtt CASCADE;
SELECT fs.drop_entity('rtt_user', cascade => true);
