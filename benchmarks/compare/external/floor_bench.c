// The kernel's limit for timers, measured beside hotloop (#14): one thread,
// no runtime, no event loop, sleeping to each absolute deadline with the
// thread's timer slack at 1 ns, either with clock_nanosleep(TIMER_ABSTIME)
// or with epoll_pwait2 (a relative timeout with nanosecond resolution, read
// against the clock just before the call). Nothing a loop does can fire a
// timer sooner after its deadline, or wake up for it with less CPU.
//
// Built and run by `go run ./cmd/compare -external` (package external
// compiles it once with `cc -O2` into the user's cache directory) as
//
//     floor_bench --mode nanosleep|epoll --config JSON
//
// and prints JSON lines like the Go harness, as implementation
// "floor-nanosleep" or "floor-epoll". The timer workloads follow
// shared/WORKLOADS.md and internal/bench/bench.go: the same xorshift32
// delays; CLOCK_MONOTONIC; lateness = fire time - (the clock read just
// before scheduling + the requested delay); CPU from getrusage (user +
// system of the whole process). "Scheduling" N timers is computing their
// deadlines and sorting them (qsort): the floor's timer store. There are
// no callbacks to post and nothing to cancel, so W1, W1x, W6, W7 and W8 are
// not run.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cbench.h"

static int use_epoll, epfd = -1;

// sleep_until returns at or after the monotonic time t (nanoseconds).
static void sleep_until(int64_t t) {
	for (;;) {
		if (use_epoll) {
			int64_t d = t - now_ns();
			if (d <= 0) return;
			struct timespec rel = {d / 1000000000, d % 1000000000};
			struct epoll_event ev;
			// glibc 2.35+ has epoll_pwait2; the raw call works with any.
			long rc = syscall(SYS_epoll_pwait2, epfd, &ev, 1, &rel, NULL, 0);
			if (rc < 0 && errno != EINTR) die("epoll_pwait2 failed");
		} else {
			struct timespec abs = {t / 1000000000, t % 1000000000};
			int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
			if (rc != 0 && rc != EINTR) die("clock_nanosleep failed");
			if (rc == 0) return;
		}
	}
}

static int64_t *order_due; // qsort's key array

static int by_due(const void *a, const void *b) {
	int i = *(const int *)a, j = *(const int *)b;
	int64_t x = order_due[i], y = order_due[j];
	return x < y ? -1 : x > y ? 1 : (i > j) - (i < j); // equal deadlines in scheduling order
}

// at_once schedules n timers of us[i] microseconds, each against a clock
// read just before it, and sleeps to each deadline in order, recording the
// fire times. It returns the CPU spent from the first scheduling to the
// last fire, and the wall time of that stretch in *wall.
static int64_t at_once(int n, const uint32_t *us, int64_t *due, int64_t *fire, int64_t *wall) {
	int *idx = xmalloc(sizeof *idx * (size_t)n);
	int64_t cpu0 = cpu_ns(), t0 = now_ns();
	for (int i = 0; i < n; i++) {
		due[i] = now_ns() + (int64_t)us[i] * 1000;
		idx[i] = i;
	}
	order_due = due;
	qsort(idx, (size_t)n, sizeof *idx, by_due);
	for (int k = 0; k < n; k++) {
		sleep_until(due[idx[k]]);
		fire[idx[k]] = now_ns();
	}
	int64_t cpu1 = cpu_ns();
	*wall = fire[idx[n - 1]] - t0;
	free(idx);
	return cpu1 - cpu0;
}

static double *lateness_us(int n, const int64_t *due, const int64_t *fire) {
	double *l = xmalloc(sizeof *l * (size_t)n);
	for (int i = 0; i < n; i++) l[i] = (double)(fire[i] - due[i]) / 1e3;
	return l;
}

static int w2_n, w3_n, w4_n;
static int64_t w5_delay;

static void w2(struct results *r, int rep) {
	uint32_t *us = delays_us(w2_n, 0, 10000);
	int64_t *due = xmalloc(sizeof *due * (size_t)w2_n), *fire = xmalloc(sizeof *fire * (size_t)w2_n), wall;
	int64_t cpu = at_once(w2_n, us, due, fire, &wall);
	double *l = lateness_us(w2_n, due, fire);
	r->n = 3, r->names[0] = "wall_ms", r->names[1] = "cpu_us_per_timer", r->names[2] = "lateness_mean_us";
	if (rep >= 0) {
		r->samples[0][rep] = (double)wall / 1e6;
		r->samples[1][rep] = (double)cpu / 1e3 / w2_n;
		r->samples[2][rep] = mean(l, w2_n);
	}
	free(us), free(due), free(fire), free(l);
}

static void w3(struct results *r, int rep) {
	uint32_t *us = delays_us(w3_n, 1000, 10000);
	int64_t *due = xmalloc(sizeof *due * (size_t)w3_n), *fire = xmalloc(sizeof *fire * (size_t)w3_n), wall;
	int64_t cpu = at_once(w3_n, us, due, fire, &wall);
	double *l = lateness_us(w3_n, due, fire);
	r->n = 6;
	r->names[0] = "lateness_mean_us", r->names[1] = "lateness_p50_us", r->names[2] = "lateness_p99_us";
	r->names[3] = "lateness_max_us", r->names[4] = "lateness_min_us", r->names[5] = "cpu_us_per_timer";
	if (rep >= 0) {
		r->samples[0][rep] = mean(l, w3_n);
		r->samples[1][rep] = percentile(l, w3_n, 50);
		r->samples[2][rep] = percentile(l, w3_n, 99);
		r->samples[3][rep] = percentile(l, w3_n, 100);
		r->samples[4][rep] = percentile(l, w3_n, 0);
		r->samples[5][rep] = (double)cpu / 1e3 / w3_n;
	}
	free(us), free(due), free(fire), free(l);
}

// w4: w4_n timers of 100 µs, each scheduled when the one before fires.
static void w4(struct results *r, int rep) {
	int64_t *due = xmalloc(sizeof *due * (size_t)w4_n), *fire = xmalloc(sizeof *fire * (size_t)w4_n);
	int64_t t0 = now_ns();
	for (int i = 0; i < w4_n; i++) {
		due[i] = now_ns() + 100000;
		sleep_until(due[i]);
		fire[i] = now_ns();
	}
	double *l = lateness_us(w4_n, due, fire);
	r->n = 2, r->names[0] = "us_per_timer", r->names[1] = "lateness_mean_us";
	if (rep >= 0) {
		r->samples[0][rep] = (double)(fire[w4_n - 1] - t0) / 1e3 / w4_n;
		r->samples[1][rep] = mean(l, w4_n);
	}
	free(due), free(fire), free(l);
}

// w4b: w4_n timers of 100 µs scheduled at once.
static void w4b(struct results *r, int rep) {
	uint32_t *us = xmalloc(sizeof *us * (size_t)w4_n);
	for (int i = 0; i < w4_n; i++) us[i] = 100;
	int64_t *due = xmalloc(sizeof *due * (size_t)w4_n), *fire = xmalloc(sizeof *fire * (size_t)w4_n), wall;
	at_once(w4_n, us, due, fire, &wall);
	double *l = lateness_us(w4_n, due, fire);
	r->n = 2, r->names[0] = "wall_ms", r->names[1] = "lateness_mean_us";
	if (rep >= 0) {
		r->samples[0][rep] = (double)wall / 1e6;
		r->samples[1][rep] = mean(l, w4_n);
	}
	free(us), free(due), free(fire), free(l);
}

// w5: the CPU the process spends while one timer of w5_delay waits.
static void w5(struct results *r, int rep) {
	int64_t cpu0 = cpu_ns(), t0 = now_ns();
	sleep_until(t0 + w5_delay);
	int64_t t1 = now_ns(), cpu1 = cpu_ns();
	r->n = 2, r->names[0] = "elapsed_ms", r->names[1] = "cpu_us";
	if (rep >= 0) {
		r->samples[0][rep] = (double)(t1 - t0) / 1e6;
		r->samples[1][rep] = (double)(cpu1 - cpu0) / 1e3;
	}
}

int main(int argc, char **argv) {
	if (argc != 5 || strcmp(argv[1], "--mode") != 0 || strcmp(argv[3], "--config") != 0)
		die("usage: floor_bench --mode nanosleep|epoll --config JSON");
	if (strcmp(argv[2], "epoll") == 0) {
		use_epoll = 1, impl_name = "floor-epoll";
		if ((epfd = epoll_create1(0)) < 0) die("epoll_create1 failed");
	} else if (strcmp(argv[2], "nanosleep") == 0) {
		impl_name = "floor-nanosleep";
	} else {
		die("--mode must be nanosleep or epoll");
	}
	config = argv[4];
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) != 0) die("prctl(PR_SET_TIMERSLACK) failed");
	int warmup = (int)cfg_int("Warmup"), reps = (int)cfg_int("Reps");
	if (reps < 1 || reps > MAXREPS) die("Reps out of range");
	w3_n = cfg_count("W3Timers");
	w4_n = cfg_count("W4Timers");
	w5_delay = cfg_int("W5DelayNs");
	if (w5_delay < 0) bad_config("W5DelayNs", "must not be negative");

	if (wants("W2")) run_sizes("W2", "W2Sizes", &w2_n, w2, warmup, reps);
	if (wants("W3")) run("W3", w3, warmup, reps);
	if (wants("W4")) run("W4", w4, warmup, reps);
	if (wants("W4b")) run("W4b", w4b, warmup, reps);
	if (wants("W5")) run("W5", w5, warmup, reps);
	return 0;
}
