/*
 * drift.c
 *		Drift metrics between two fs.profile values.
 *
 * Numeric profiles are compared as the piecewise-uniform distributions their
 * sketches stand for (ProfileBuildDist): PSI and Jensen-Shannon over ten bins
 * cut at the reference's deciles, the two-sample Kolmogorov-Smirnov statistic
 * with its asymptotic p-value, and the Wasserstein-1 distance divided by the
 * reference's standard deviation.  Text profiles are compared category by
 * category (values beyond a sampled profile's hash cutoff, and the "other"
 * share, form one extra category): PSI, Jensen-Shannon, L-infinity and the
 * chi-square goodness-of-fit p-value of the current counts against the
 * reference shares.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/tuplestore.h"

#include "profile.h"

PG_FUNCTION_INFO_V1(profile_drift);

/* A share that is zero counts as this much in PSI, as Evidently does. */
#define DRIFT_EMPTY_SHARE	0.0001
#define DRIFT_PSI_BINS		10

typedef struct DriftThresholds
{
	double		psi;
	double		js;
	double		wasserstein;
	double		linf;
	double		p_value;
} DriftThresholds;

/* Emits one (metric, value, threshold, drifted) row; NaN value or threshold becomes NULL. */
static void
EmitRow(ReturnSetInfo *rsinfo, const char *metric, double value, double threshold,
		bool lower_is_drift)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = CStringGetTextDatum(metric);
	values[1] = Float8GetDatum(value);
	values[2] = Float8GetDatum(threshold);
	nulls[1] = isnan(value);
	nulls[2] = isnan(threshold);
	if (nulls[1] || nulls[2])
		nulls[3] = true;
	else
		values[3] = BoolGetDatum(lower_is_drift ? value < threshold : value >= threshold);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Population stability index of two share vectors, zero shares replaced. */
static double
Psi(const double *ref, const double *cur, int n)
{
	double		psi = 0.0;

	for (int i = 0; i < n; i++)
	{
		double		r = ref[i] > 0 ? ref[i] : DRIFT_EMPTY_SHARE;
		double		c = cur[i] > 0 ? cur[i] : DRIFT_EMPTY_SHARE;

		psi += (c - r) * log(c / r);
	}
	return psi;
}

/* Jensen-Shannon distance (natural log, square root) of two share vectors. */
static double
JensenShannon(const double *ref, const double *cur, int n)
{
	double		sr = 0,
				sc = 0,
				js = 0;

	for (int i = 0; i < n; i++)
	{
		sr += ref[i];
		sc += cur[i];
	}
	if (sr <= 0 || sc <= 0)
		return get_float8_nan();
	for (int i = 0; i < n; i++)
	{
		double		p = ref[i] / sr,
					q = cur[i] / sc,
					m = (p + q) / 2;

		if (p > 0)
			js += 0.5 * p * log(p / m);
		if (q > 0)
			js += 0.5 * q * log(q / m);
	}
	return sqrt(Max(js, 0.0));
}

/* Asymptotic Kolmogorov survival function Q(lambda) = 2 sum (-1)^(j-1) exp(-2 j^2 lambda^2). */
static double
KolmogorovQ(double lambda)
{
	double		sum = 0.0;

	if (lambda < 0.1)
		return 1.0;
	for (int j = 1; j <= 200; j++)
	{
		double		term = 2.0 * exp(-2.0 * j * j * lambda * lambda);

		sum += (j % 2) ? term : -term;
		if (term < 1e-16)
			break;
	}
	return Max(0.0, Min(1.0, sum));
}

/* Regularized upper incomplete gamma Q(a, x), by series or continued fraction. */
static double
GammaQ(double a, double x)
{
	double		lead;

	if (x <= 0)
		return 1.0;
	lead = exp(-x + a * log(x) - lgamma(a));
	if (x < a + 1)
	{
		double		ap = a,
					del = 1.0 / a,
					sum = del;

		for (int n = 0; n < 10000; n++)
		{
			ap += 1;
			del *= x / ap;
			sum += del;
			if (fabs(del) < fabs(sum) * 1e-15)
				break;
		}
		return Max(0.0, Min(1.0, 1.0 - sum * lead));
	}
	else
	{
		double		tiny = 1e-300;
		double		b = x + 1 - a,
					c = 1 / tiny,
					d = 1 / b,
					h = d;

		for (int i = 1; i < 10000; i++)
		{
			double		an = -i * (i - a),
						del;

			b += 2;
			d = an * d + b;
			if (fabs(d) < tiny)
				d = tiny;
			c = b + an / c;
			if (fabs(c) < tiny)
				c = tiny;
			d = 1 / d;
			del = d * c;
			h *= del;
			if (fabs(del - 1) < 1e-15)
				break;
		}
		return Max(0.0, Min(1.0, lead * h));
	}
}

/* Orders doubles ascending. */
static int
DoubleCmp(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* P(X <= x) and P(X < x) at ascending points, sweeping the segments once. */
static void
CdfSweep(const ProfileDist *d, const double *xs, int nx, double *right, double *left)
{
	int			i = 0;
	double		cum = 0.0;

	for (int k = 0; k < nx; k++)
	{
		double		x = xs[k],
					l,
					r;

		while (i < d->nseg && d->seg[i].hi < x)
			cum += d->seg[i++].mass;
		l = r = cum;
		for (int j = i; j < d->nseg && d->seg[j].lo <= x; j++)
		{
			const ProfileSegment *g = &d->seg[j];

			if (g->lo < x)
			{
				double		part = g->mass * (Min(x, g->hi) - g->lo) / (g->hi - g->lo);

				l += part;
				r += part;
			}
			else if (g->hi == x)
				r += g->mass;	/* a point mass at x */
		}
		right[k] = Min(r, 1.0);
		left[k] = Min(l, 1.0);
	}
}

/* Emits the numeric drift metrics. */
static void
NumericDrift(ReturnSetInfo *rsinfo, const ProfileState *rs, const ProfileState *cs,
			 const DriftThresholds *t)
{
	ProfileDist rd,
				cd;
	double		nan = get_float8_nan();
	double		edges[DRIFT_PSI_BINS - 1];
	double		rsh[DRIFT_PSI_BINS],
				csh[DRIFT_PSI_BINS];
	double	   *xs,
			   *rr,
			   *rl,
			   *cr,
			   *cl;
	int			nx = 0;
	double		ks = 0,
				w = 0,
				ksp,
				sd,
				en;

	ProfileBuildDist(rs, &rd);
	ProfileBuildDist(cs, &cd);
	if (rd.n == 0 || cd.n == 0)
	{
		EmitRow(rsinfo, "psi", nan, t->psi, false);
		EmitRow(rsinfo, "ks_statistic", nan, nan, false);
		EmitRow(rsinfo, "ks_p_value", nan, t->p_value, true);
		EmitRow(rsinfo, "jensen_shannon", nan, t->js, false);
		EmitRow(rsinfo, "wasserstein_norm", nan, t->wasserstein, false);
		return;
	}

	/* PSI and JS over ten bins cut at the reference deciles */
	for (int k = 1; k < DRIFT_PSI_BINS; k++)
		edges[k - 1] = ProfileDistQuantile(&rd, (double) k / DRIFT_PSI_BINS);
	{
		double		prev_r = 0,
					prev_c = 0;

		for (int k = 0; k < DRIFT_PSI_BINS; k++)
		{
			double		fr = k < DRIFT_PSI_BINS - 1 ? ProfileDistCdf(&rd, edges[k]) : 1.0;
			double		fc = k < DRIFT_PSI_BINS - 1 ? ProfileDistCdf(&cd, edges[k]) : 1.0;

			rsh[k] = Max(0.0, fr - prev_r);
			csh[k] = Max(0.0, fc - prev_c);
			prev_r = fr;
			prev_c = fc;
		}
	}

	/* KS and Wasserstein over the union of segment ends: both CDFs are linear between them */
	xs = palloc(sizeof(double) * 2 * (rd.nseg + cd.nseg));
	for (int i = 0; i < rd.nseg; i++)
	{
		xs[nx++] = rd.seg[i].lo;
		xs[nx++] = rd.seg[i].hi;
	}
	for (int i = 0; i < cd.nseg; i++)
	{
		xs[nx++] = cd.seg[i].lo;
		xs[nx++] = cd.seg[i].hi;
	}
	qsort(xs, nx, sizeof(double), DoubleCmp);
	{
		int			m = 0;

		for (int i = 0; i < nx; i++)
			if (m == 0 || xs[i] != xs[m - 1])
				xs[m++] = xs[i];
		nx = m;
	}
	rr = palloc(sizeof(double) * nx);
	rl = palloc(sizeof(double) * nx);
	cr = palloc(sizeof(double) * nx);
	cl = palloc(sizeof(double) * nx);
	CdfSweep(&rd, xs, nx, rr, rl);
	CdfSweep(&cd, xs, nx, cr, cl);
	for (int i = 0; i < nx; i++)
	{
		ks = Max(ks, fabs(rr[i] - cr[i]));
		ks = Max(ks, fabs(rl[i] - cl[i]));
		if (i + 1 < nx)
		{
			double		da = rr[i] - cr[i],
						db = rl[i + 1] - cl[i + 1],
						width = xs[i + 1] - xs[i];

			if ((da >= 0) == (db >= 0))
				w += 0.5 * (fabs(da) + fabs(db)) * width;
			else
				w += 0.5 * (da * da + db * db) / (fabs(da) + fabs(db)) * width;
		}
	}
	en = sqrt((double) rd.n * (double) cd.n / ((double) rd.n + (double) cd.n));
	ksp = KolmogorovQ((en + 0.12 + 0.11 / en) * ks);
	sd = sqrt(ProfileVariance(rs, false));
	if (sd > 0 && isfinite(sd))
		w = w / sd;
	else
		w = (w == 0) ? 0.0 : get_float8_infinity();

	EmitRow(rsinfo, "psi", Psi(rsh, csh, DRIFT_PSI_BINS), t->psi, false);
	EmitRow(rsinfo, "ks_statistic", ks, nan, false);
	EmitRow(rsinfo, "ks_p_value", ksp, t->p_value, true);
	EmitRow(rsinfo, "jensen_shannon", JensenShannon(rsh, csh, DRIFT_PSI_BINS), t->js, false);
	EmitRow(rsinfo, "wasserstein_norm", w, t->wasserstein, false);
}

/* Emits the categorical drift metrics. */
static void
TextDrift(ReturnSetInfo *rsinfo, const ProfileState *rs, const ProfileState *cs,
		  const DriftThresholds *t)
{
	double		nan = get_float8_nan();
	uint64		cut = PG_UINT64_MAX;
	int			cap = rs->nentries + cs->nentries + 1;
	double	   *rsh = palloc(sizeof(double) * cap);
	double	   *csh = palloc(sizeof(double) * cap);
	double		listed_r = 0,
				listed_c = 0;
	int			k = 0,
				i = 0,
				j = 0;
	double		linf = 0,
				chi2 = 0,
				esum = 0;

	if (rs->count == 0 || cs->count == 0)
	{
		EmitRow(rsinfo, "psi", nan, t->psi, false);
		EmitRow(rsinfo, "jensen_shannon", nan, t->js, false);
		EmitRow(rsinfo, "l_infinity", nan, t->linf, false);
		EmitRow(rsinfo, "chi_square_p_value", nan, t->p_value, true);
		return;
	}
	if (rs->flags & PROFILE_FLAG_SAMPLED)
		cut = Min(cut, rs->cutoff);
	if (cs->flags & PROFILE_FLAG_SAMPLED)
		cut = Min(cut, cs->cutoff);

	/* merge the two (hash, bytes)-ordered lists */
	while (i < rs->nentries || j < cs->nentries)
	{
		const TextEntry *a = i < rs->nentries ? &rs->entries[i] : NULL;
		const TextEntry *b = j < cs->nentries ? &cs->entries[j] : NULL;
		int			c;
		double		cr = 0,
					cc = 0;

		c = a == NULL ? 1 : b == NULL ? -1 : TextEntryCompare(a, b);
		if (c <= 0)
		{
			cr = (double) a->count;
			i++;
		}
		if (c >= 0)
		{
			cc = (double) b->count;
			j++;
		}
		if ((c <= 0 ? a->hash : b->hash) > cut)
			continue;			/* beyond a sample's reach: part of "other" */
		listed_r += cr;
		listed_c += cc;
		rsh[k] = cr / (double) rs->count;
		csh[k] = cc / (double) cs->count;
		k++;
	}
	if (listed_r < (double) rs->count || listed_c < (double) cs->count)
	{
		rsh[k] = ((double) rs->count - listed_r) / (double) rs->count;
		csh[k] = ((double) cs->count - listed_c) / (double) cs->count;
		k++;
	}
	for (int m = 0; m < k; m++)
	{
		linf = Max(linf, fabs(rsh[m] - csh[m]));
		esum += Max(rsh[m], DRIFT_EMPTY_SHARE);
	}
	for (int m = 0; m < k; m++)
	{
		double		e = Max(rsh[m], DRIFT_EMPTY_SHARE) / esum * (double) cs->count;
		double		o = csh[m] * (double) cs->count;

		chi2 += (o - e) * (o - e) / e;
	}
	EmitRow(rsinfo, "psi", Psi(rsh, csh, k), t->psi, false);
	EmitRow(rsinfo, "jensen_shannon", JensenShannon(rsh, csh, k), t->js, false);
	EmitRow(rsinfo, "l_infinity", linf, t->linf, false);
	EmitRow(rsinfo, "chi_square_p_value", k < 2 ? 1.0 : GammaQ((k - 1) / 2.0, chi2 / 2.0),
			t->p_value, true);
}

/*
 * A side with nothing to compare (a profile of no rows, of NULLs only or, for
 * numbers, of no finite values) gives NULL metrics and verdicts.  Say so:
 * otherwise a time window that matches no rows looks like a silent failure.
 * A NOTICE rather than an error, so that a report or monitor comparing many
 * features goes on past one that is empty.
 */
static void
NoticeIfEmpty(const char *side, const ProfileState *s)
{
	int64		rows = s->count + s->nulls;
	int64		nonfinite = s->nan + s->posinf + s->neginf;

	if (s->kind == PROFILE_KIND_NUMERIC ? s->count - nonfinite > 0 : s->count > 0)
		return;
	if (rows == 0)
		ereport(NOTICE,
				(errmsg("fs.drift: the %s profile is empty, so every metric is NULL", side),
				 errdetail("The profile was built from no rows."),
				 errhint("A filter or time window that matches no rows gives an empty profile.")));
	else if (nonfinite == 0)
		ereport(NOTICE,
				(errmsg("fs.drift: the %s profile has no values to compare, so every metric is NULL", side),
				 errdetail_plural("The profile was built from " INT64_FORMAT " row, a NULL.",
								  "The profile was built from " INT64_FORMAT " rows, all NULL.",
								  rows, rows)));
	else
		ereport(NOTICE,
				(errmsg("fs.drift: the %s profile has no finite values to compare, so every metric is NULL", side),
				 errdetail_plural("The profile was built from " INT64_FORMAT " row: "
								  INT64_FORMAT " NULL, " INT64_FORMAT " NaN or infinite.",
								  "The profile was built from " INT64_FORMAT " rows: "
								  INT64_FORMAT " NULL, " INT64_FORMAT " NaN or infinite.",
								  rows, rows, s->nulls, nonfinite)));
}

/* Reads a threshold argument; NULL means "no threshold". */
static double
ThresholdArg(FunctionCallInfo fcinfo, int n)
{
	double		v;

	if (PG_ARGISNULL(n))
		return get_float8_nan();
	v = PG_GETARG_FLOAT8(n);
	if (isnan(v) || v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("drift thresholds must be non-negative numbers")));
	return v;
}

/*
 * fs.drift(reference, current, psi, js, wasserstein, l_infinity, p_value):
 * one row per metric with its threshold and verdict.
 */
Datum
profile_drift(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ProfileState *rs,
			   *cs;
	DriftThresholds t;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("fs.drift needs a reference and a current profile")));
	t.psi = ThresholdArg(fcinfo, 2);
	t.js = ThresholdArg(fcinfo, 3);
	t.wasserstein = ThresholdArg(fcinfo, 4);
	t.linf = ThresholdArg(fcinfo, 5);
	t.p_value = ThresholdArg(fcinfo, 6);
	rs = ProfileFromDatum(PG_GETARG_DATUM(0), CurrentMemoryContext);
	cs = ProfileFromDatum(PG_GETARG_DATUM(1), CurrentMemoryContext);
	if (rs->kind != cs->kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot compare a %s fs.profile with a %s fs.profile",
						rs->kind == PROFILE_KIND_NUMERIC ? "numeric" : "text",
						cs->kind == PROFILE_KIND_NUMERIC ? "numeric" : "text")));
	NoticeIfEmpty("reference", rs);
	NoticeIfEmpty("current", cs);
	InitMaterializedSRF(fcinfo, 0);
	if (rs->kind == PROFILE_KIND_NUMERIC)
		NumericDrift(rsinfo, rs, cs, &t);
	else
		TextDrift(rsinfo, rs, cs, &t);
	PG_RETURN_NULL();
}
