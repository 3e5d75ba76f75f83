/* A small, real foreign library for replay's tests: nondeterministic on
 * purpose (clock, rand, a hidden counter), with structs, strings and output
 * buffers crossing the boundary. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every entry point bumps this, so tests can prove replay never called in.
 * Per thread, as tests run in parallel threads. */
static _Thread_local int32_t calls = 0;

struct rt_point {
    int32_t x;
    int32_t y;
};

int32_t rt_calls(void) { return calls; }

uint64_t rt_now_nanos(void) {
    struct timespec ts;
    calls++;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t seed(void) {
    static uint32_t state = 0;
    if (state == 0) {
        state = (uint32_t)rt_now_nanos() | 1u;
        calls--;
    }
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

struct rt_point rt_point_jitter(struct rt_point p, int32_t spread) {
    struct rt_point out;
    calls++;
    out.x = p.x + (int32_t)(seed() % (uint32_t)spread);
    out.y = p.y + (int32_t)(seed() % (uint32_t)spread);
    return out;
}

/* Writes "hello, NAME (call N)" into out; returns the length it wanted. */
int32_t rt_greet(const char *name, char *out, size_t cap) {
    calls++;
    return snprintf(out, cap, "hello, %s (call %d)", name, calls);
}

/* Fills out with len random bytes; returns len. */
int64_t rt_fill_random(uint8_t *out, size_t len) {
    calls++;
    for (size_t i = 0; i < len; i++) {
        out[i] = (uint8_t)seed();
    }
    return (int64_t)len;
}

/* Reads up to cap bytes of a random length; returns how many it wrote. */
int64_t rt_read_some(uint8_t *out, size_t cap) {
    size_t n;
    calls++;
    n = cap == 0 ? 0 : 1 + seed() % cap;
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)('a' + seed() % 26);
    }
    return (int64_t)n;
}

/* Sums the values and reports the sum and the count through pointers. */
void rt_stats(const int32_t *values, size_t n, int64_t *sum, int32_t *max) {
    calls++;
    *sum = 0;
    *max = INT32_MIN;
    for (size_t i = 0; i < n; i++) {
        *sum += values[i];
        if (values[i] > *max) *max = values[i];
    }
}

/* Keeps a context (user-data) pointer, as C libraries with callbacks do. */
static _Thread_local void *context = 0;

void rt_set_context(void *ctx) {
    calls++;
    context = ctx;
}

void *rt_get_context(void) {
    calls++;
    return context;
}

/* Fills out[0..n] with points scattered around the origin; returns n. */
size_t rt_scatter(struct rt_point *out, size_t n) {
    calls++;
    for (size_t i = 0; i < n; i++) {
        out[i].x = (int32_t)(seed() % 100) - 50;
        out[i].y = (int32_t)(seed() % 100) - 50;
    }
    return n;
}

/* A table of handles C hands out: numbered from 1000, like descriptors. */
static int32_t next_handle = 1000;
static int32_t open_handles = 0;

int32_t rt_handle_open(void) {
    calls++;
    open_handles++;
    return next_handle++;
}

/* Takes the handle over: closes it; returns how many are still open. */
int32_t rt_handle_close(int32_t h) {
    calls++;
    (void)h;
    return --open_handles;
}

/* A label that changes from call to call, in a buffer C owns: a borrowed
   return, valid until the next call. NULL when n is negative. */
const char *rt_label(int32_t n) {
    static _Thread_local char label[32];
    calls++;
    if (n < 0) return 0;
    snprintf(label, sizeof label, "label-%d-%u", n, seed() % 1000);
    return label;
}

/* The total length of the strings of parts (NULL-terminated), plus a
   random amount below 10. */
int32_t rt_total_len(const char *const *parts) {
    int32_t total = 0;
    calls++;
    for (; *parts; parts++) total += (int32_t)strlen(*parts);
    return total + (int32_t)(seed() % 10);
}

/* How many of the n strings start with prefix (a NULL string never does),
   plus a random amount below 10. */
int32_t rt_count_prefixed(const char *prefix, const char **names, int32_t n) {
    int32_t count = 0;
    size_t len = prefix ? strlen(prefix) : 0;
    calls++;
    for (int32_t i = 0; i < n; i++) {
        if (names[i] && strncmp(names[i], prefix ? prefix : "", len) == 0) count++;
    }
    return count + (int32_t)(seed() % 10) * 100;
}

/* zlib's in/out pattern: *dest_len holds dest's capacity on entry and the
   number of bytes written on return (a random number up to it), each byte
   the matching byte of src plus a random amount. */
int32_t rt_fill_upto(uint8_t *dest, size_t *dest_len, const uint8_t *src, size_t src_len) {
    size_t n;
    calls++;
    n = *dest_len == 0 ? 0 : 1 + seed() % *dest_len;
    for (size_t i = 0; i < n; i++) {
        dest[i] = (uint8_t)((i < src_len ? src[i] : 0) + seed() % 3);
    }
    *dest_len = n;
    return 0;
}

/* An object C allocates and hands back through an out-parameter, as
   sqlite3_open does with its sqlite3 **. */
struct rt_object {
    int64_t id;
    int32_t uses;
};

int32_t rt_object_open(int64_t base, struct rt_object **out) {
    calls++;
    if (base < 0) { /* fails, as sqlite3_open_v2 may: no object */
        *out = 0;
        return -1;
    }
    *out = malloc(sizeof **out);
    if (!*out) return -1;
    (*out)->id = base + (int64_t)(seed() % 1000);
    (*out)->uses = 0;
    return 0;
}

/* The object's id and how many times it was asked; a NULL object is -1. */
int64_t rt_object_id(const struct rt_object *o) {
    calls++;
    if (!o) return -1;
    ((struct rt_object *)o)->uses++;
    return o->id * 100 + o->uses;
}

void rt_object_close(struct rt_object *o) {
    calls++;
    free(o);
}

/* Calls cb(ctx, i, label) for i in 0..n, each label random, as
   sqlite3_exec calls its row callback; stops early when cb returns
   nonzero. Returns how many calls were made, plus 1000 times a random
   digit. */
typedef int32_t (*rt_item_cb)(void *ctx, int32_t i, const char *label);

int32_t rt_each(int32_t n, rt_item_cb cb, void *ctx) {
    char label[32];
    int32_t made = 0;
    calls++;
    for (int32_t i = 0; i < n; i++) {
        snprintf(label, sizeof label, "item-%d-%u", i, seed() % 100);
        made++;
        if (cb && cb(ctx, i, label) != 0) break;
    }
    return made + 1000 * (int32_t)(seed() % 10);
}

/* Sorts values with qsort and the caller's comparator. */
void rt_sort(int32_t *values, size_t n, int (*cmp)(const void *, const void *)) {
    calls++;
    qsort(values, n, sizeof *values, cmp);
}

/* A handler kept for later, as signal-style or event APIs keep one. */
static _Thread_local rt_item_cb handler = 0;
static _Thread_local void *handler_ctx = 0;

void rt_set_handler(rt_item_cb cb, void *ctx) {
    calls++;
    handler = cb;
    handler_ctx = ctx;
}

/* Fires the kept handler with a random label; returns what it returned. */
int32_t rt_fire(int32_t i) {
    char label[32];
    calls++;
    snprintf(label, sizeof label, "fired-%u", seed() % 100);
    return handler ? handler(handler_ctx, i, label) : -1;
}

/* Points *end at the end of s, as strtol and sqlite3_prepare's pzTail do;
   or, with outside set, somewhere else entirely (a bug, or another API). */
int32_t rt_find_end(const char *s, const char **end, int32_t outside) {
    static const char elsewhere[] = "elsewhere";
    calls++;
    *end = outside ? elsewhere : s + strlen(s);
    return (int32_t)(seed() % 100);
}

/* A point C keeps and lends (as localtime lends its struct tm): random,
   overwritten by the next call; NULL for a negative n. */
const struct rt_point *rt_lend_point(int32_t n) {
    static _Thread_local struct rt_point point;
    calls++;
    if (n < 0) return 0;
    point.x = n;
    point.y = (int32_t)(seed() % 1000);
    return &point;
}
