// libuv side of the hotloop comparison: the C event loop Node.js is built
// on, driven directly, with no JavaScript in between.
//
// Built and run by `go run ./cmd/compare -external` (package external
// compiles it once with `cc -O2 ... -luv -lpthread` into the user's cache
// directory) as
//
//     libuv_bench --config JSON
//
// and prints one JSON object per line, exactly like the Go harness:
// {"impl":"libuv","workload":...,"metric":...,"value":...,"samples":[...]}.
//
// The workloads follow shared/WORKLOADS.md and internal/bench/bench.go: the
// same xorshift32 delays; CLOCK_MONOTONIC; lateness = fire time - (the clock
// read just before scheduling + the requested delay); CPU from getrusage
// (user+system of the whole process); work scheduled from inside the running
// loop. libuv has no call_soon: callbacks posted from the loop go to a plain
// array drained by an idle handle (what Node's setImmediate does with a
// check handle); callbacks posted from other threads go to a mutex-guarded
// array followed by uv_async_send, libuv's documented cross-thread wake-up,
// which coalesces sends while one is pending. Timers are uv_timer_t, which
// take whole milliseconds counted from the loop's cached time: a delay is
// passed as max(1, ceil(us / 1000)) ms, as Node does. W2, W3 and W4b start
// timers held in an array allocated before the clock and CPU readings
// start (the Go peers allocate each timer inside the measurement). W6
// allocates each uv_timer_t with malloc and times uv_timer_init +
// uv_timer_start + uv_timer_stop; closing and freeing the handles comes
// after the timing.
// W5 has no wakeups metric; there is no W8.
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

#include "cbench.h"

static uint64_t ms_of(uint32_t us) { return us <= 1000 ? 1 : (us + 999) / 1000; }

// ---- the loop: local posts, remote posts, a way to run a body on it ----

typedef void (*task_fn)(void *);
struct task {
	task_fn fn;
	void *arg;
};

static uv_loop_t *loop;
static uv_idle_t idler;   // drains the local queue; active only while it is not empty
static uv_async_t waker;  // remote posts; keeps the loop alive while it waits

static struct task *local_q;
static size_t local_len, local_cap, local_next;

static pthread_mutex_t remote_mu = PTHREAD_MUTEX_INITIALIZER;
static struct task *remote_q, *remote_take;
static size_t remote_len, remote_cap, remote_take_cap;

static void idle_cb(uv_idle_t *h) {
	(void)h;
	// Run what is queued now; callbacks posted meanwhile run on the next
	// pass (call_soon semantics).
	size_t end = local_len;
	while (local_next < end) {
		struct task t = local_q[local_next++];
		t.fn(t.arg);
	}
	if (local_next == local_len) {
		local_len = local_next = 0;
		uv_idle_stop(&idler);
	}
}

// post_local queues fn(arg) from the loop thread.
static void post_local(task_fn fn, void *arg) {
	if (local_len == local_cap) {
		local_cap = local_cap ? 2 * local_cap : 1024;
		local_q = realloc(local_q, sizeof *local_q * local_cap);
		if (!local_q) die("out of memory");
	}
	local_q[local_len++] = (struct task){fn, arg};
	if (local_len == 1) uv_idle_start(&idler, idle_cb);
}

static void async_cb(uv_async_t *h) {
	(void)h;
	pthread_mutex_lock(&remote_mu);
	struct task *q = remote_q;
	size_t n = remote_len, cap = remote_cap;
	remote_q = remote_take, remote_cap = remote_take_cap, remote_len = 0;
	pthread_mutex_unlock(&remote_mu);
	for (size_t i = 0; i < n; i++) q[i].fn(q[i].arg);
	remote_take = q, remote_take_cap = cap;
}

// post_remote queues fn(arg) from any thread and wakes the loop.
static void post_remote(task_fn fn, void *arg) {
	pthread_mutex_lock(&remote_mu);
	if (remote_len == remote_cap) {
		remote_cap = remote_cap ? 2 * remote_cap : 4096;
		remote_q = realloc(remote_q, sizeof *remote_q * remote_cap);
		if (!remote_q) die("out of memory");
	}
	remote_q[remote_len++] = (struct task){fn, arg};
	pthread_mutex_unlock(&remote_mu);
	uv_async_send(&waker);
}

// run_on_loop runs body(arg) as a callback on the loop and runs the loop
// until a callback calls finish().
static void run_on_loop(task_fn body, void *arg) {
	post_local(body, arg);
	uv_run(loop, UV_RUN_DEFAULT);
}

static void finish(void) { uv_stop(loop); }

// ---- W1: callbacks posted from the loop ----

static int w1_n, w1_count;
static int64_t w1_t0, w1_t1;

static void w1_inc(void *arg) {
	(void)arg;
	if (++w1_count == w1_n) {
		w1_t1 = now_ns();
		finish();
	}
}

static void w1_body(void *arg) {
	(void)arg;
	w1_t0 = now_ns();
	for (int i = 0; i < w1_n; i++) post_local(w1_inc, NULL);
}

static void w1(struct results *r, int rep) {
	w1_count = 0;
	run_on_loop(w1_body, NULL);
	r->n = 1, r->names[0] = "ns_per_callback";
	if (rep >= 0) r->samples[0][rep] = (double)(w1_t1 - w1_t0) / w1_n;
}

// ---- W1x: two producer threads post from outside the loop ----

static int w1x_per, w1x_count, w1x_seen;
static int64_t w1x_t0, w1x_t1, w1x_tb;
static atomic_int w1x_go;

static void w1x_inc(void *arg) {
	(void)arg;
	if (++w1x_count == 2 * w1x_per) w1x_t1 = now_ns();
}

static void w1x_barrier(void *arg) {
	(void)arg;
	w1x_seen = w1x_count;
	w1x_tb = now_ns();
	finish();
}

static void *w1x_producer(void *arg) {
	(void)arg;
	while (!atomic_load(&w1x_go)) {
	}
	for (int i = 0; i < w1x_per; i++) post_remote(w1x_inc, NULL);
	return NULL;
}

static void *w1x_driver(void *arg) {
	(void)arg;
	pthread_t p[2];
	atomic_store(&w1x_go, 0);
	for (int i = 0; i < 2; i++) pthread_create(&p[i], NULL, w1x_producer, NULL);
	w1x_t0 = now_ns();
	atomic_store(&w1x_go, 1);
	for (int i = 0; i < 2; i++) pthread_join(p[i], NULL);
	post_remote(w1x_barrier, NULL); // FIFO: runs after every accepted post
	return NULL;
}

static void w1x(struct results *r, int rep) {
	w1x_count = 0;
	pthread_t d;
	pthread_create(&d, NULL, w1x_driver, NULL);
	uv_run(loop, UV_RUN_DEFAULT); // until the barrier
	pthread_join(d, NULL);
	int total = 2 * w1x_per;
	if (w1x_seen < total) w1x_t1 = w1x_tb;
	r->n = 2, r->names[0] = "ns_per_callback", r->names[1] = "lost";
	if (rep >= 0) {
		r->samples[0][rep] = (double)(w1x_t1 - w1x_t0) / total;
		r->samples[1][rep] = total - w1x_seen;
	}
}

// ---- W2, W3, W4b: n timers scheduled at once from the loop ----

struct at_once {
	int n, fired;
	const uint32_t *us;
	uv_timer_t *timers;
	int64_t *due, *fire;
	int64_t t0, cpu0, cpu1;
};

static struct at_once ao;

static void ao_fired(uv_timer_t *t) {
	int i = (int)(intptr_t)t->data;
	ao.fire[i] = now_ns();
	if (++ao.fired == ao.n) {
		ao.cpu1 = cpu_ns();
		finish();
	}
}

static void ao_body(void *arg) {
	(void)arg;
	ao.cpu0 = cpu_ns();
	ao.t0 = now_ns();
	for (int i = 0; i < ao.n; i++) {
		uv_timer_t *t = &ao.timers[i];
		ao.due[i] = now_ns() + (int64_t)ao.us[i] * 1000;
		uv_timer_init(loop, t);
		t->data = (void *)(intptr_t)i;
		uv_timer_start(t, ao_fired, ms_of(ao.us[i]), 0);
	}
}

static void close_nothing(uv_handle_t *h) { (void)h; }

static void at_once(const uint32_t *us, int n) {
	ao = (struct at_once){.n = n, .us = us};
	ao.timers = xmalloc(sizeof *ao.timers * (size_t)n);
	ao.due = xmalloc(sizeof *ao.due * (size_t)n);
	ao.fire = xmalloc(sizeof *ao.fire * (size_t)n);
	run_on_loop(ao_body, NULL);
	for (int i = 0; i < n; i++) uv_close((uv_handle_t *)&ao.timers[i], close_nothing);
	uv_run(loop, UV_RUN_NOWAIT); // the close callbacks, before the memory goes
}

static void at_once_free(void) {
	free(ao.timers), free(ao.due), free(ao.fire);
}

static double *lateness_us(void) {
	double *l = xmalloc(sizeof *l * (size_t)ao.n);
	for (int i = 0; i < ao.n; i++) l[i] = (double)(ao.fire[i] - ao.due[i]) / 1e3;
	return l;
}

static int64_t last_fire(void) {
	int64_t m = 0;
	for (int i = 0; i < ao.n; i++)
		if (ao.fire[i] > m) m = ao.fire[i];
	return m;
}

static int w2_n;

static void w2(struct results *r, int rep) {
	uint32_t *us = delays_us(w2_n, 0, 10000);
	at_once(us, w2_n);
	double *l = lateness_us();
	r->n = 3, r->names[0] = "wall_ms", r->names[1] = "cpu_us_per_timer", r->names[2] = "lateness_mean_us";
	if (rep >= 0) {
		r->samples[0][rep] = (double)(last_fire() - ao.t0) / 1e6;
		r->samples[1][rep] = (double)(ao.cpu1 - ao.cpu0) / 1e3 / w2_n;
		r->samples[2][rep] = mean(l, w2_n);
	}
	free(l), free(us), at_once_free();
}

static int w3_n, w4_n;

static void w3(struct results *r, int rep) {
	uint32_t *us = delays_us(w3_n, 1000, 10000);
	at_once(us, w3_n);
	double *l = lateness_us();
	r->n = 5, r->names[0] = "lateness_mean_us", r->names[1] = "lateness_p50_us", r->names[2] = "lateness_p99_us",
	r->names[3] = "lateness_max_us", r->names[4] = "lateness_min_us";
	if (rep >= 0) {
		r->samples[0][rep] = mean(l, w3_n);
		r->samples[1][rep] = percentile(l, w3_n, 50);
		r->samples[2][rep] = percentile(l, w3_n, 99);
		r->samples[3][rep] = percentile(l, w3_n, 100);
		r->samples[4][rep] = percentile(l, w3_n, 0);
	}
	free(l), free(us), at_once_free();
}

static void w4b(struct results *r, int rep) {
	uint32_t *us = xmalloc(sizeof *us * (size_t)w4_n);
	for (int i = 0; i < w4_n; i++) us[i] = 100;
	at_once(us, w4_n);
	double *l = lateness_us();
	r->n = 2, r->names[0] = "wall_ms", r->names[1] = "lateness_mean_us";
	if (rep >= 0) {
		r->samples[0][rep] = (double)(last_fire() - ao.t0) / 1e6;
		r->samples[1][rep] = mean(l, w4_n);
	}
	free(l), free(us), at_once_free();
}

// ---- W4: chained 100 µs timers ----

static uv_timer_t w4_timer;
static int w4_i;
static int64_t w4_t0, *w4_due, *w4_fire;

static void w4_fired(uv_timer_t *t) {
	w4_fire[w4_i] = now_ns();
	if (++w4_i == w4_n) {
		finish();
		return;
	}
	w4_due[w4_i] = now_ns() + 100000;
	uv_timer_start(t, w4_fired, ms_of(100), 0);
}

static void w4_body(void *arg) {
	(void)arg;
	w4_t0 = now_ns();
	w4_i = 0;
	w4_due[0] = now_ns() + 100000;
	uv_timer_start(&w4_timer, w4_fired, ms_of(100), 0);
}

static void w4(struct results *r, int rep) {
	w4_due = xmalloc(sizeof *w4_due * (size_t)w4_n);
	w4_fire = xmalloc(sizeof *w4_fire * (size_t)w4_n);
	run_on_loop(w4_body, NULL);
	double lsum = 0;
	for (int i = 0; i < w4_n; i++) lsum += (double)(w4_fire[i] - w4_due[i]) / 1e3;
	r->n = 2, r->names[0] = "us_per_timer", r->names[1] = "lateness_mean_us";
	if (rep >= 0) {
		r->samples[0][rep] = (double)(w4_fire[w4_n - 1] - w4_t0) / 1e3 / w4_n;
		r->samples[1][rep] = lsum / w4_n;
	}
	free(w4_due), free(w4_fire);
}

// ---- W5: one timer on an otherwise empty loop ----

static uv_timer_t w5_timer;
static int64_t w5_delay, w5_t0, w5_t1, w5_cpu0, w5_cpu1;

static void w5_fired(uv_timer_t *t) {
	(void)t;
	w5_t1 = now_ns();
	w5_cpu1 = cpu_ns();
	finish();
}

static void w5_body(void *arg) {
	(void)arg;
	w5_cpu0 = cpu_ns();
	w5_t0 = now_ns();
	uv_timer_start(&w5_timer, w5_fired, ms_of((uint32_t)(w5_delay / 1000)), 0);
}

static void w5(struct results *r, int rep) {
	struct timespec settle = {0, 5000000}; // let the process settle first
	nanosleep(&settle, NULL);
	run_on_loop(w5_body, NULL);
	r->n = 2, r->names[0] = "elapsed_ms", r->names[1] = "cpu_us";
	if (rep >= 0) {
		r->samples[0][rep] = (double)(w5_t1 - w5_t0) / 1e6;
		r->samples[1][rep] = (double)(w5_cpu1 - w5_cpu0) / 1e3;
	}
}

// ---- W6: schedule and cancel ----

static int w6_n;
static uv_timer_t **w6_timers;
static int64_t w6_t0, w6_t1;

static void w6_never(uv_timer_t *t) {
	(void)t;
	die("W6: a cancelled timer fired");
}

static void w6_body(void *arg) {
	(void)arg;
	w6_t0 = now_ns();
	for (int i = 0; i < w6_n; i++) {
		uv_timer_t *t = xmalloc(sizeof *t);
		uv_timer_init(loop, t);
		uv_timer_start(t, w6_never, 1000, 0);
		w6_timers[i] = t;
	}
	for (int i = 0; i < w6_n; i++) uv_timer_stop(w6_timers[i]);
	w6_t1 = now_ns();
	finish();
}

static void free_handle(uv_handle_t *h) { free(h); }

static void w6(struct results *r, int rep) {
	w6_timers = xmalloc(sizeof *w6_timers * (size_t)w6_n);
	run_on_loop(w6_body, NULL);
	for (int i = 0; i < w6_n; i++) uv_close((uv_handle_t *)w6_timers[i], free_handle);
	uv_run(loop, UV_RUN_NOWAIT);
	free(w6_timers);
	r->n = 1, r->names[0] = "ns_per_pair";
	if (rep >= 0) r->samples[0][rep] = (double)(w6_t1 - w6_t0) / w6_n;
}

// ---- W7: a post from another thread to a parked loop ----

static int w7_samples;
static int64_t w7_idle;
static double *w7_lat;
static sem_t w7_ran;
static int64_t w7_posted;

static void w7_cb(void *arg) {
	int k = (int)(intptr_t)arg;
	w7_lat[k] = (double)(now_ns() - w7_posted) / 1e3;
	if (k == w7_samples - 1) finish();
	sem_post(&w7_ran);
}

static void *w7_poster(void *arg) {
	(void)arg;
	xs_state = SEED;
	for (int k = 0; k < w7_samples; k++) {
		int64_t ns = w7_idle + (int64_t)xs_between(0, 1000) * 1000;
		struct timespec ts = {ns / 1000000000, ns % 1000000000};
		nanosleep(&ts, NULL);
		w7_posted = now_ns(); // read by the loop after the mutex in post_remote
		post_remote(w7_cb, (void *)(intptr_t)k);
		sem_wait(&w7_ran);
	}
	return NULL;
}

static void w7(struct results *r, int rep) {
	w7_lat = xmalloc(sizeof *w7_lat * (size_t)w7_samples);
	sem_init(&w7_ran, 0, 0);
	pthread_t p;
	pthread_create(&p, NULL, w7_poster, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	pthread_join(p, NULL);
	sem_destroy(&w7_ran);
	r->n = 2, r->names[0] = "p50_us", r->names[1] = "p99_us";
	if (rep >= 0) {
		r->samples[0][rep] = percentile(w7_lat, w7_samples, 50);
		r->samples[1][rep] = percentile(w7_lat, w7_samples, 99);
	}
	free(w7_lat);
}

// ---- main ----

int main(int argc, char **argv) {
	if (argc != 3 || strcmp(argv[1], "--config") != 0) die("usage: libuv_bench --config JSON");
	impl_name = "libuv";
	config = argv[2];
	int warmup = (int)cfg_int("Warmup"), reps = (int)cfg_int("Reps");
	if (reps < 1 || reps > MAXREPS) die("Reps out of range");
	loop = uv_default_loop();
	uv_idle_init(loop, &idler);
	uv_async_init(loop, &waker, async_cb);
	uv_timer_init(loop, &w4_timer);
	uv_timer_init(loop, &w5_timer);

	w1_n = cfg_count("W1Callbacks");
	w1x_per = cfg_count("W1xPerProd");
	w3_n = cfg_count("W3Timers");
	w4_n = cfg_count("W4Timers");
	w5_delay = cfg_int("W5DelayNs");
	w6_n = cfg_count("W6Timers");
	w7_samples = cfg_count("W7Samples");
	w7_idle = cfg_int("W7IdleBetweenNs");

	/* W1 and W1x take about a millisecond a repetition: FastReps of them. */
	int fast = (int)cfg_int("FastReps");
	if (fast < reps) fast = reps;
	if (fast > MAXREPS) die("FastReps out of range");
	if (wants("W1")) run("W1", w1, warmup, fast);
	if (wants("W1x")) run("W1x", w1x, warmup, fast);
	if (wants("W2")) run_sizes("W2", "W2Sizes", &w2_n, w2, warmup, reps);
	if (wants("W3")) run("W3", w3, warmup, reps);
	if (wants("W4")) run("W4", w4, warmup, reps);
	if (wants("W4b")) run("W4b", w4b, warmup, reps);
	if (wants("W5")) run("W5", w5, warmup, reps);
	if (wants("W6")) run("W6", w6, warmup, reps);
	if (wants("W7")) run("W7", w7, warmup, reps);
	return 0;
}
