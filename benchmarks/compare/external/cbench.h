// Helpers shared by the C peers of the hotloop comparison (libuv_bench.c,
// floor_bench.c): the clock and CPU readings, the xorshift32 delays of
// shared/WORKLOADS.md, the few keys they read from the harness's JSON
// configuration, percentiles, and the JSON lines they print, one object per
// metric exactly like the Go harness:
// {"impl":...,"workload":...,"metric":...,"value":...,"samples":[...]}.
// A peer sets impl_name before emitting.
#ifndef CBENCH_H
#define CBENCH_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *impl_name = "?";

#define SEED 2463534242u

static int64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static void die(const char *msg) {
	fprintf(stderr, "%s_bench: %s\n", impl_name, msg);
	exit(1);
}

static void *xmalloc(size_t n) {
	void *p = malloc(n ? n : 1);
	if (!p) die("out of memory");
	return p;
}

// ---- xorshift32, as in shared/WORKLOADS.md ----

static uint32_t xs_state;
static uint32_t xs_next(void) {
	uint32_t x = xs_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return xs_state = x;
}
static uint32_t xs_between(uint32_t lo, uint32_t hi) { return lo + xs_next() % (hi - lo + 1); }

static uint32_t *delays_us(int n, uint32_t lo, uint32_t hi) {
	uint32_t *d = xmalloc(sizeof *d * (size_t)n);
	xs_state = SEED;
	for (int i = 0; i < n; i++) d[i] = xs_between(lo, hi);
	return d;
}

// ---- the configuration: a few keys of the JSON the harness passes ----

static const char *config;

static const char *find_key(const char *key) {
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(config, pat);
	return p ? p + strlen(pat) : NULL;
}

// bad_config exits saying which key of the configuration is wrong.
static void bad_config(const char *key, const char *what) {
	fprintf(stderr, "%s_bench: config key \"%s\" %s\n", impl_name, key, what);
	exit(1);
}

// cfg_int returns the integer value of key.
static int64_t cfg_int(const char *key) {
	const char *p = find_key(key);
	if (!p) bad_config(key, "is missing");
	char *end;
	int64_t v = strtoll(p, &end, 10);
	if (end == p) bad_config(key, "is not an integer");
	return v;
}

// cfg_count returns the value of key, which must be at least 1: a count
// of timers or callbacks.
static int cfg_count(const char *key) {
	int64_t v = cfg_int(key);
	if (v < 1 || v > 100000000) bad_config(key, "must be a count from 1 to 10^8");
	return (int)v;
}

// cfg_ints reads key's array of integers into out (at most max) and
// returns how many it read; a missing key or null reads none.
static int cfg_ints(const char *key, int64_t *out, int max) {
	const char *p = find_key(key);
	if (!p || *p != '[') return 0;
	int n = 0;
	p++;
	while (*p == ' ') p++;
	while (*p && *p != ']' && n < max) {
		char *end;
		out[n++] = strtoll(p, &end, 10);
		if (end == p) bad_config(key, "must be an array of integers");
		p = end;
		while (*p == ',' || *p == ' ') p++;
	}
	return n;
}

static int wants(const char *workload) {
	const char *p = find_key("workloads");
	char pat[32];
	snprintf(pat, sizeof pat, "\"%s\"", workload);
	const char *end = p ? strchr(p, ']') : NULL;
	const char *hit = p ? strstr(p, pat) : NULL;
	return hit && end && hit < end;
}

// ---- statistics and output ----

static int cmp_double(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double percentile(const double *xs, int n, double p) {
	double *s = xmalloc(sizeof *s * (size_t)n);
	memcpy(s, xs, sizeof *s * (size_t)n);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	double rank = p / 100 * (n - 1);
	int lo = (int)floor(rank), hi = (int)ceil(rank);
	double v = s[lo] + (s[hi] - s[lo]) * (rank - lo);
	free(s);
	return v;
}

static double mean(const double *xs, int n) {
	double t = 0;
	for (int i = 0; i < n; i++) t += xs[i];
	return t / n;
}

#define MAXREPS 64
#define MAXMETRICS 8

// A workload's metrics over its measured repetitions.
struct results {
	int n;                                  // metrics
	const char *names[MAXMETRICS];
	double samples[MAXMETRICS][MAXREPS];
	int reps;
};

static void emit(const char *workload, struct results *r) {
	for (int m = 0; m < r->n; m++) {
		double med = percentile(r->samples[m], r->reps, 50);
		printf("{\"impl\":\"%s\",\"workload\":\"%s\",\"metric\":\"%s\",\"value\":%.6g,\"samples\":[", impl_name,
		       workload, r->names[m], med);
		for (int i = 0; i < r->reps; i++) printf("%s%.6g", i ? "," : "", r->samples[m][i]);
		printf("]}\n");
	}
	fflush(stdout);
}

// run runs fn warmup times unrecorded (rep -1), then reps times recording
// repetition i, and prints the workload's metrics.
static void run(const char *workload, void (*fn)(struct results *, int), int warmup, int reps) {
	struct results r = {0};
	r.reps = reps;
	fprintf(stderr, "%s\n", workload);
	for (int i = 0; i < warmup; i++) fn(&r, -1);
	for (int i = 0; i < reps; i++) fn(&r, i);
	emit(workload, &r);
}

// run_sizes runs fn once per size listed under key (W2Sizes), as the
// workload family/N=size, setting *n to the size first. Every size must
// be a count from 1 to 10^8.
static void run_sizes(const char *family, const char *key, int *n, void (*fn)(struct results *, int), int warmup,
                      int reps) {
	int64_t sizes[16];
	int k = cfg_ints(key, sizes, 16);
	for (int i = 0; i < k; i++) {
		if (sizes[i] < 1 || sizes[i] > 100000000) bad_config(key, "must hold counts from 1 to 10^8");
	}
	for (int i = 0; i < k; i++) {
		char name[32];
		snprintf(name, sizeof name, "%s/N=%lld", family, (long long)sizes[i]);
		*n = (int)sizes[i];
		run(name, fn, warmup, reps);
	}
}

#endif
