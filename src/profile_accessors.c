/*
 * profile_accessors.c
 *		SQL functions reading an fs.profile: counts, moments, extremes,
 *		quantiles and histogram of numeric profiles, distinct and most
 *		frequent values of text profiles.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "profile_internal.h"

PG_FUNCTION_INFO_V1(profile_kind);
PG_FUNCTION_INFO_V1(profile_count);
PG_FUNCTION_INFO_V1(profile_nulls);
PG_FUNCTION_INFO_V1(profile_nan_count);
PG_FUNCTION_INFO_V1(profile_inf_count);
PG_FUNCTION_INFO_V1(profile_mean);
PG_FUNCTION_INFO_V1(profile_stddev);
PG_FUNCTION_INFO_V1(profile_variance);
PG_FUNCTION_INFO_V1(profile_min);
PG_FUNCTION_INFO_V1(profile_max);
PG_FUNCTION_INFO_V1(profile_quantile);
PG_FUNCTION_INFO_V1(profile_histogram);
PG_FUNCTION_INFO_V1(profile_distinct);
PG_FUNCTION_INFO_V1(profile_top_values);

/* Decodes argument 0 into a state in the current context. */
static ProfileState *
ProfileArg(FunctionCallInfo fcinfo)
{
	return ProfileFromDatum(PG_GETARG_DATUM(0), CurrentMemoryContext);
}

/* Decodes argument 0 and insists it is numeric. */
static ProfileState *
NumericProfileArg(FunctionCallInfo fcinfo, const char *what)
{
	ProfileState *s = ProfileArg(fcinfo);

	if (s->kind != PROFILE_KIND_NUMERIC)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs a numeric fs.profile, not a text one", what)));
	return s;
}

/* 'numeric' or 'text'. */
Datum
profile_kind(PG_FUNCTION_ARGS)
{
	ProfileState *s = ProfileArg(fcinfo);

	PG_RETURN_TEXT_P(cstring_to_text(s->kind == PROFILE_KIND_NUMERIC ? "numeric" : "text"));
}

/* Number of non-NULL inputs. */
Datum
profile_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(ProfileArg(fcinfo)->count);
}

/* Number of NULL inputs. */
Datum
profile_nulls(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(ProfileArg(fcinfo)->nulls);
}

/* Number of NaN inputs. */
Datum
profile_nan_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(NumericProfileArg(fcinfo, "fs.profile_nan_count")->nan);
}

/* Number of infinite inputs of either sign. */
Datum
profile_inf_count(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_inf_count");

	PG_RETURN_INT64(s->posinf + s->neginf);
}

/* Mean of the finite values; NULL when there are none. */
Datum
profile_mean(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_mean");

	if (ProfileFinite(s) == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(ProfileMean(s));
}

/* Sample standard deviation of the finite values; NULL below two. */
Datum
profile_stddev(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_stddev");

	if (ProfileFinite(s) < 2)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sqrt(ProfileVariance(s, true)));
}

/* Sample variance of the finite values; NULL below two. */
Datum
profile_variance(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_variance");

	if (ProfileFinite(s) < 2)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(ProfileVariance(s, true));
}

/* Smallest finite value; NULL when there are none. */
Datum
profile_min(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_min");

	if (ProfileFinite(s) == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s->min);
}

/* Largest finite value; NULL when there are none. */
Datum
profile_max(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_max");

	if (ProfileFinite(s) == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s->max);
}

/* Quantile q of the finite values, within PROFILE_ALPHA relative error. */
Datum
profile_quantile(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_quantile");
	double		q = PG_GETARG_FLOAT8(1);

	if (isnan(q) || q < 0 || q > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantile must be between 0 and 1, not %g", q)));
	if (ProfileFinite(s) == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(ProfileQuantile(s, q));
}

/*
 * Equal-width histogram of the finite values between min and max: each sketch
 * bucket's count goes to the bin holding the bucket's value.
 */
Datum
profile_histogram(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_histogram");
	int32		nbins = PG_GETARG_INT32(1);
	int64	   *counts;
	double		width;

	if (nbins < 1 || nbins > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of histogram bins must be between 1 and 10000, not %d", nbins)));
	InitMaterializedSRF(fcinfo, 0);
	if (ProfileFinite(s) == 0)
		PG_RETURN_NULL();
	counts = palloc0(sizeof(int64) * nbins);
	width = (s->max - s->min) / nbins;

#define HIST_ADD(v, c) \
	do { \
		double	_v = Max(s->min, Min(s->max, (v))); \
		int		_b = width > 0 ? (int) floor((_v - s->min) / width) : 0; \
		counts[Max(0, Min(nbins - 1, _b))] += (c); \
	} while (0)

	if (s->neg.used)
		for (int32 k = s->neg.lo; k <= s->neg.hi; k++)
			if (s->neg.counts[k - s->neg.base])
				HIST_ADD(-BucketValue(k), s->neg.counts[k - s->neg.base]);
	if (s->zeros)
		HIST_ADD(0.0, s->zeros);
	if (s->pos.used)
		for (int32 k = s->pos.lo; k <= s->pos.hi; k++)
			if (s->pos.counts[k - s->pos.base])
				HIST_ADD(BucketValue(k), s->pos.counts[k - s->pos.base]);
#undef HIST_ADD

	for (int i = 0; i < nbins; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int32GetDatum(i + 1);
		values[1] = Float8GetDatum(s->min + width * i);
		values[2] = Float8GetDatum(i == nbins - 1 ? s->max : s->min + width * (i + 1));
		values[3] = Int64GetDatum(counts[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}

/* Distinct non-NULL values: exact for text below the cap, else estimated. */
Datum
profile_distinct(PG_FUNCTION_ARGS)
{
	ProfileState *s = ProfileArg(fcinfo);

	if (s->kind != PROFILE_KIND_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("fs.profile_distinct needs a text fs.profile, not a numeric one")));
	if (!(s->flags & PROFILE_FLAG_SAMPLED))
		PG_RETURN_FLOAT8((double) s->nentries);
	/* KMV: k - 1 values below the k-th smallest hash, as a fraction of the hash space */
	PG_RETURN_FLOAT8((double) (PROFILE_TEXT_CAP - 1) /
					 (((double) s->cutoff + 1.0) / 18446744073709551616.0));
}

/* Orders text entries by count descending, then bytes. */
static int
TextCountCmp(const void *a, const void *b)
{
	const TextEntry *x = *(const TextEntry *const *) a;
	const TextEntry *y = *(const TextEntry *const *) b;
	int			c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = memcmp(x->data, y->data, Min(x->len, y->len));
	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* The most frequent listed text values, then one NULL-valued row for the other values. */
Datum
profile_top_values(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ProfileState *s = ProfileArg(fcinfo);
	int32		limit = PG_GETARG_INT32(1);
	TextEntry **v;
	int64		shown = 0;
	int32		n;

	if (s->kind != PROFILE_KIND_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("fs.profile_top_values needs a text fs.profile, not a numeric one")));
	if (limit < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("limit must not be negative")));
	InitMaterializedSRF(fcinfo, 0);
	v = TextSorted(s);
	qsort(v, s->nentries, sizeof(TextEntry *), TextCountCmp);
	n = Min(limit, s->nentries);
	for (int32 i = 0; i <= n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		int64		c;

		if (i < n)
		{
			values[0] = PointerGetDatum(cstring_to_text_with_len(v[i]->data, v[i]->len));
			c = v[i]->count;
			shown += c;
		}
		else
		{
			c = s->count - shown;
			if (c == 0)
				break;
			nulls[0] = true;
		}
		values[1] = Int64GetDatum(c);
		values[2] = Float8GetDatum((double) c / (double) s->count);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}
