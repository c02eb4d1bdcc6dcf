/*
 * training_set_codec.h
 *		What the chunk encoder (training_set_codec.c) and the chunk decoder
 *		(training_set_decode.c) share.
 */
#ifndef TRAINING_SET_CODEC_H
#define TRAINING_SET_CODEC_H

#include "postgres.h"

/* Largest decimal exponent of the decimal float codec. */
#define TS_MAX_DECIMAL_EXP		10

extern const double ts_pow10_table[TS_MAX_DECIMAL_EXP + 1];

static inline uint32
get_u32(const unsigned char *p)
{
	return (uint32) p[0] | ((uint32) p[1] << 8) | ((uint32) p[2] << 16) | ((uint32) p[3] << 24);
}

static inline int64
unzigzag(uint64 v)
{
	return (int64) (v >> 1) ^ -(int64) (v & 1);
}

extern char *TsGrowBuffer(MemoryContext cxt, char *buf, Size *size, Size need);
extern const char *TsCodecName(int codec);
extern int	TsPlanedWidth(int codec);
extern int	TsServerEncodingBegin(void);
extern void TsServerEncodingEnd(int client);

#endif							/* TRAINING_SET_CODEC_H */
