/* hio's guest SDK for C doers: the exports of the `hooks` interface,
 * driving the table HIO_EXPORT_DOER defines, and the helpers of
 * hio_doer.h. Each `doer` resource the host makes is one
 * exports_hio_doer_hooks_doer_t, which holds that doer's state; nothing of
 * a doer lives in a global, so one instance holds many doers. recur is not
 * a method but a function of the doer's id (its slot in a table of the
 * instance's doers, which `id` reports), so the host lends no handle on
 * the call it makes every tick. */
#include "hio_doer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool vfail(hio_err_t *err, const char *format, va_list args) {
  va_list again;
  va_copy(again, args);
  int n = vsnprintf(NULL, 0, format, args);
  char *text = malloc(n > 0 ? (size_t)n + 1 : 1);
  if (text == NULL) abort();
  vsnprintf(text, (size_t)n + 1, format, again);
  va_end(again);
  err->ptr = (uint8_t *)text;
  err->len = n > 0 ? (size_t)n : 0;
  return false;
}

bool hio_fail(hio_err_t *err, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vfail(err, format, args);
  va_end(args);
  return false;
}

char *hio_take_string(http_doer_string_t *s) {
  char *text = malloc(s->len + 1);
  if (text == NULL) abort();
  memcpy(text, s->ptr, s->len);
  text[s->len] = '\0';
  http_doer_string_free(s);
  return text;
}

/* ---- options ---- */

static bool key_is(const http_doer_string_t *key, const char *name) {
  size_t n = strlen(name);
  return key->len == n && memcmp(key->ptr, name, n) == 0;
}

static const hio_doer_types_value_t *find(const hio_options_t *o, const char *name) {
  for (size_t i = 0; i < o->len; i++) {
    if (key_is(&o->ptr[i].f0, name)) return &o->ptr[i].f1;
  }
  return NULL;
}

static const char *kind(const hio_doer_types_value_t *v) {
  if (v->tag == HIO_DOER_TYPES_VALUE_LIST) return "a list";
  switch (v->val.scalar.tag) {
    case HIO_DOER_TYPES_SCALAR_BOOLEAN: return "a boolean";
    case HIO_DOER_TYPES_SCALAR_INTEGER: return "an integer";
    case HIO_DOER_TYPES_SCALAR_FLOAT: return "a float";
    default: return "a string";
  }
}

bool hio_only(const hio_options_t *o, const char *const *allowed, hio_err_t *err) {
  for (size_t i = 0; i < o->len; i++) {
    const http_doer_string_t *key = &o->ptr[i].f0;
    bool known = false;
    for (const char *const *a = allowed; a != NULL && *a != NULL; a++) {
      if (key_is(key, *a)) known = true;
    }
    if (known) continue;
    if (allowed == NULL || allowed[0] == NULL) {
      return hio_fail(err, "unknown option `%.*s`: this doer takes no options", (int)key->len,
                      (const char *)key->ptr);
    }
    size_t room = 1;
    for (const char *const *a = allowed; *a != NULL; a++) room += strlen(*a) + 2;
    char *list = calloc(room, 1);
    if (list == NULL) abort();
    for (const char *const *a = allowed; *a != NULL; a++) {
      if (a != allowed) strcat(list, ", ");
      strcat(list, *a);
    }
    hio_fail(err, "unknown option `%.*s`: expected one of %s", (int)key->len,
             (const char *)key->ptr, list);
    free(list);
    return false;
  }
  return true;
}

/* The scalar of option `name` when it has tag `want` (or `also`): 1; absent:
 * 0; another type: -1 with the reason. */
static int scalar(const hio_options_t *o, const char *name, uint8_t want, int also,
                  const char *what, const hio_doer_types_scalar_t **out, hio_err_t *err) {
  const hio_doer_types_value_t *v = find(o, name);
  if (v == NULL) return 0;
  if (v->tag == HIO_DOER_TYPES_VALUE_SCALAR &&
      (v->val.scalar.tag == want || (also >= 0 && v->val.scalar.tag == also))) {
    *out = &v->val.scalar;
    return 1;
  }
  hio_fail(err, "option `%s` must be %s, not %s", name, what, kind(v));
  return -1;
}

int hio_opt_integer(const hio_options_t *o, const char *name, int64_t *out, hio_err_t *err) {
  const hio_doer_types_scalar_t *s;
  int r = scalar(o, name, HIO_DOER_TYPES_SCALAR_INTEGER, -1, "an integer", &s, err);
  if (r == 1) *out = s->val.integer;
  return r;
}

int hio_opt_float(const hio_options_t *o, const char *name, double *out, hio_err_t *err) {
  const hio_doer_types_scalar_t *s;
  int r = scalar(o, name, HIO_DOER_TYPES_SCALAR_FLOAT, HIO_DOER_TYPES_SCALAR_INTEGER, "a number",
                 &s, err);
  if (r == 1) {
    *out = s->tag == HIO_DOER_TYPES_SCALAR_FLOAT ? s->val.float_ : (double)s->val.integer;
  }
  return r;
}

int hio_opt_boolean(const hio_options_t *o, const char *name, bool *out, hio_err_t *err) {
  const hio_doer_types_scalar_t *s;
  int r = scalar(o, name, HIO_DOER_TYPES_SCALAR_BOOLEAN, -1, "a boolean", &s, err);
  if (r == 1) *out = s->val.boolean;
  return r;
}

int hio_opt_text(const hio_options_t *o, const char *name, char **out, hio_err_t *err) {
  const hio_doer_types_scalar_t *s;
  int r = scalar(o, name, HIO_DOER_TYPES_SCALAR_TEXT, -1, "a string", &s, err);
  if (r == 1) {
    *out = malloc(s->val.text.len + 1);
    if (*out == NULL) abort();
    memcpy(*out, s->val.text.ptr, s->val.text.len);
    (*out)[s->val.text.len] = '\0';
  }
  return r;
}

char *hio_number(double v, char buf[static HIO_NUMBER_MAX]) {
  if (isnan(v)) return strcpy(buf, "NaN");
  if (isinf(v)) return strcpy(buf, v > 0 ? "inf" : "-inf");
  /* The shortest digits that read back as v, as Rust prints them. */
  char e[40];
  for (int p = 1; p <= 17; p++) {
    snprintf(e, sizeof e, "%.*e", p - 1, v);
    if (strtod(e, NULL) == v) break;
  }
  /* e is [-]d[.ddd]e[+-]x: lay the digits out without an exponent. */
  char digits[24];
  size_t nd = 0;
  const char *c = e;
  bool negative = *c == '-';
  if (negative) c++;
  for (; *c != 'e'; c++) {
    if (*c != '.') digits[nd++] = *c;
  }
  int exp = atoi(c + 1);
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  char *out = buf;
  if (negative) *out++ = '-';
  int point = exp + 1; /* digits before the decimal point */
  if (point <= 0) {
    *out++ = '0';
    *out++ = '.';
    for (int i = 0; i < -point; i++) *out++ = '0';
    for (size_t i = 0; i < nd; i++) *out++ = digits[i];
  } else {
    for (int i = 0; i < point; i++) *out++ = (size_t)i < nd ? digits[i] : '0';
    if ((size_t)point < nd) {
      *out++ = '.';
      for (size_t i = (size_t)point; i < nd; i++) *out++ = digits[i];
    }
  }
  *out = '\0';
  return buf;
}

/* ---- tyme, log, decks ---- */

double hio_now(void) { return hio_doer_tyme_now(); }

double hio_tock(void) { return hio_doer_tyme_tock(); }

bool hio_set_tock(double tock, hio_err_t *err) { return hio_doer_tyme_set_tock(tock, err); }

void hio_log(hio_level_t level, const char *format, ...) {
  http_doer_string_t message;
  va_list args;
  va_start(args, format);
  vfail(&message, format, args);
  va_end(args);
  hio_doer_log_log((hio_doer_log_level_t)level, &message);
  http_doer_string_free(&message);
}

const char *hio_deck_error_name(hio_deck_error_t e) {
  static const char *const names[] = {"full", "too-large", "not-granted", "unknown-deck"};
  return (unsigned)e < 4 ? names[e] : "unknown";
}

bool hio_push(const char *deck, const void *item, size_t len, hio_deck_error_t *why) {
  http_doer_string_t name = {(uint8_t *)deck, strlen(deck)};
  http_doer_list_u8_t bytes = {(uint8_t *)item, len};
  hio_doer_decks_deck_error_t err;
  if (hio_doer_decks_push(&name, &bytes, &err)) return true;
  *why = (hio_deck_error_t)err;
  return false;
}

int hio_pull(const char *deck, uint8_t **item, size_t *len, hio_deck_error_t *why) {
  http_doer_string_t name = {(uint8_t *)deck, strlen(deck)};
  http_doer_option_list_u8_t got;
  hio_doer_decks_deck_error_t err;
  if (!hio_doer_decks_pull(&name, &got, &err)) {
    *why = (hio_deck_error_t)err;
    return -1;
  }
  if (!got.is_some) return 0;
  *item = got.val.ptr;
  *len = got.val.len;
  return 1;
}

char *hio_refusal(const char *deck) {
  http_doer_string_t name = {(uint8_t *)deck, strlen(deck)};
  http_doer_string_t why;
  if (!hio_doer_decks_refusal(&name, &why)) return NULL;
  return hio_take_string(&why);
}

/* ---- the exports ---- */

/* One doer: the `doer` resource's representation (its handle's rep). */
struct exports_hio_doer_hooks_doer_t {
  /* The author's state, from enter; handed to every later hook. */
  void *self;
  /* Its slot in `doers`, which the host passes to recur. */
  uint32_t id;
  /* exit has run: `self` is gone. */
  bool exited;
  /* Why this doer's last recur failed, until failure takes it. */
  hio_err_t failed;
};

typedef exports_hio_doer_hooks_doer_t doer_t;

/* The doers this instance holds, by id: enter takes a slot (a freed one
 * first, so ids stay small) and the destructor frees it, so an id is
 * unique among the doers the instance holds and fixed for each one's life.
 * A free slot is NULL; `spare` stacks the free slots' ids. recur, the hook
 * of every tick, finds its doer with a bounds check and an index. */
static doer_t **doers;
static uint32_t *spare;
static uint32_t slots, nspare;

static uint32_t take_slot(doer_t *doer) {
  if (nspare == 0) {
    uint32_t more = slots == 0 ? 8 : slots * 2;
    if (more <= slots || more > SIZE_MAX / sizeof *doers) abort(); /* out of ids */
    doer_t **d = realloc(doers, (size_t)more * sizeof *d);
    uint32_t *s = realloc(spare, (size_t)more * sizeof *s);
    if (d == NULL || s == NULL) abort();
    doers = d;
    spare = s;
    /* The new slots are free, the lowest on top of the stack. */
    for (uint32_t i = more; i > slots; i--) {
      doers[i - 1] = NULL;
      spare[nspare++] = i - 1;
    }
    slots = more;
  }
  uint32_t id = spare[--nspare];
  doers[id] = doer;
  return id;
}

static void free_slot(uint32_t id) {
  doers[id] = NULL;
  spare[nspare++] = id;
}

static bool exited(hio_err_t *err) { return hio_fail(err, "this doer has exited"); }

bool exports_hio_doer_hooks_validate(exports_hio_doer_hooks_options_t *options, hio_err_t *err) {
  const hio_doer_t *d = &hio_exported_doer;
  *err = (hio_err_t){0};
  bool ok = d->validate != NULL ? d->validate(options, err) : hio_only(options, d->options, err);
  exports_hio_doer_hooks_options_free(options);
  return ok;
}

bool exports_hio_doer_hooks_static_doer_enter(exports_hio_doer_hooks_options_t *options,
                                              exports_hio_doer_hooks_own_doer_t *ret,
                                              hio_err_t *err) {
  const hio_doer_t *d = &hio_exported_doer;
  void *self = NULL;
  *err = (hio_err_t){0};
  bool ok = d->enter != NULL ? d->enter(options, &self, err) : hio_only(options, d->options, err);
  exports_hio_doer_hooks_options_free(options);
  if (!ok) return false;
  doer_t *doer = calloc(1, sizeof *doer);
  if (doer == NULL) abort();
  doer->self = self;
  doer->id = take_slot(doer);
  *ret = exports_hio_doer_hooks_doer_new(doer);
  return true;
}

uint32_t exports_hio_doer_hooks_method_doer_id(doer_t *doer) { return doer->id; }

exports_hio_doer_hooks_progress_t exports_hio_doer_hooks_recur(uint32_t id, double tyme) {
  /* An id the instance does not hold fails (there is no doer to keep a
   * reason for `failure`). */
  if (id >= slots || doers[id] == NULL) return HIO_DOER_TYPES_PROGRESS_FAILED;
  doer_t *doer = doers[id];
  const hio_doer_t *d = &hio_exported_doer;
  http_doer_string_free(&doer->failed);
  hio_progress_t p;
  if (doer->exited) {
    exited(&doer->failed);
    p = HIO_FAILED;
  } else if (d->recur == NULL) {
    hio_fail(&doer->failed, "this doer defines no recur");
    p = HIO_FAILED;
  } else {
    p = d->recur(doer->self, tyme, &doer->failed);
  }
  switch (p) {
    case HIO_RUNNING: return HIO_DOER_TYPES_PROGRESS_RUNNING;
    case HIO_DONE: return HIO_DOER_TYPES_PROGRESS_DONE;
    default: return HIO_DOER_TYPES_PROGRESS_FAILED;
  }
}

void exports_hio_doer_hooks_method_doer_failure(doer_t *doer, hio_err_t *ret) {
  if (doer->failed.ptr == NULL) {
    hio_fail(ret, "recur failed and gave no reason");
    return;
  }
  /* The reason moves to the host's result (freed after the call). */
  *ret = doer->failed;
  doer->failed.ptr = NULL;
  doer->failed.len = 0;
}

static bool with_self(doer_t *doer, bool (*hook)(void *, hio_err_t *), hio_err_t *err) {
  *err = (hio_err_t){0};
  if (doer->exited) return exited(err);
  return hook == NULL || hook(doer->self, err);
}

bool exports_hio_doer_hooks_method_doer_clean(doer_t *doer, hio_err_t *err) {
  return with_self(doer, hio_exported_doer.clean, err);
}

bool exports_hio_doer_hooks_method_doer_cease(doer_t *doer, hio_err_t *err) {
  return with_self(doer, hio_exported_doer.cease, err);
}

void exports_hio_doer_hooks_method_doer_abort(doer_t *doer, http_doer_string_t *reason) {
  char *text = hio_take_string(reason);
  if (!doer->exited && hio_exported_doer.abort != NULL) hio_exported_doer.abort(doer->self, text);
  free(text);
}

/* Runs the author's exit (or frees `self`) once. */
static bool run_exit(doer_t *doer, hio_err_t *err) {
  void *self = doer->self;
  doer->self = NULL;
  doer->exited = true;
  if (hio_exported_doer.exit != NULL) return hio_exported_doer.exit(self, err);
  free(self);
  return true;
}

bool exports_hio_doer_hooks_method_doer_exit(doer_t *doer, hio_err_t *err) {
  *err = (hio_err_t){0};
  return doer->exited || run_exit(doer, err);
}

/* The host dropped the handle: after exit, as the lifecycle has it. A
 * doer dropped without exit (the host gave up on it) still has its
 * state released, by its exit hook; that hook's error has nowhere to go.
 * Its id is free from here on (not at exit: until the drop the instance
 * still holds the doer, and a recur on it fails as exited). */
void exports_hio_doer_hooks_doer_destructor(doer_t *doer) {
  if (!doer->exited) {
    hio_err_t err = {0};
    run_exit(doer, &err);
    http_doer_string_free(&err);
  }
  http_doer_string_free(&doer->failed);
  free_slot(doer->id);
  free(doer);
}
