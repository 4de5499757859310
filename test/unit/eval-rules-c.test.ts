// Built-in C rules: hand-written vulnerable and secure snippets per CWE.
import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeC } from "../../src/eval/analyzers/c/rules.ts";
import { lexC } from "../../src/eval/analyzers/c/lexer.ts";
import { BuiltinAnalyzer } from "../../src/eval/analyzers/builtin.ts";
import { cppcheckAvailable, cppcheckFinding } from "../../src/eval/analyzers/cppcheck.ts";

const H = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <limits.h>\n";
const cwes = (code: string) => analyzeC(code).map((f) => f.cwe);

const CASES: Record<string, { vulnerable: string[]; secure: string[] }> = {
  "CWE-476": {
    vulnerable: [
      `${H}typedef struct { char name[100]; int status; } person;\nint main(void) {\n    person *p = (person *)malloc(sizeof(person));\n    p->status = 0;\n    return 0;\n}\n`,
      `${H}int main(void) {\n    char *buf = malloc(1024);\n    fgets(buf, 100, stdin);\n    printf("%s", buf);\n    return 0;\n}\n`,
      `${H}int count(const char *path) {\n    FILE *f = fopen(path, "r");\n    int n = fgetc(f);\n    fclose(f);\n    return n;\n}\n`,
      // a lookup's result stored in a member and dereferenced through it
      `${H}int start(struct xfer *px, struct conn *ic) {\n    px->ft = file_send_start(ic, px->name);\n    px->ft->data = px;\n    return 1;\n}\n`,
      `${H}int probe(struct pdev *pdev) {\n    struct resource *r = platform_get_resource(pdev, 0, 0);\n    return map(r->start);\n}\n`,
      // walking a link that may end in NULL
      `${H}struct cls { int tt; struct cls *super; };\nstruct cls *real(struct cls *cl) {\n    if (cl == 0) return NULL;\n    while (cl->tt == 1) {\n        cl = cl->super;\n    }\n    return cl;\n}\n`,
      `${H}struct line { int len; struct line *next; };\nint total(struct line *l, int rows) {\n    int n = 0;\n    for (int r = 0; r < rows; r++, l = l->next) {\n        show(l);\n        n += l->len;\n    }\n    return n;\n}\n`,
    ],
    secure: [
      `${H}typedef struct { char name[100]; int status; } person;\nint main(void) {\n    person *p = malloc(sizeof(person));\n    if (p == NULL) return 1;\n    p->status = 0;\n    return 0;\n}\n`,
      `${H}int main(void) {\n    char *buf = malloc(1024);\n    if (!buf) {\n        return 1;\n    }\n    fgets(buf, 100, stdin);\n    return 0;\n}\n`,
      `${H}int count(const char *path) {\n    FILE *f;\n    if ((f = fopen(path, "r")) == NULL) return -1;\n    int n = fgetc(f);\n    fclose(f);\n    return n;\n}\n`,
      `${H}int start(struct xfer *px, struct conn *ic) {\n    px->ft = file_send_start(ic, px->name);\n    if (!px->ft) return 0;\n    px->ft->data = px;\n    return 1;\n}\n`,
      // casts and accessors derive a pointer from a valid one; a destructor returns NULL on purpose
      `${H}int peer(struct sock *sk, struct msg *m) {\n    struct alg_sock *ask = alg_sk(sk);\n    struct hdr *h = msg_to_hdr(m);\n    return ask->type + h->len;\n}\n`,
      `${H}void done(struct image *image) {\n    image = destroy_image(image);\n    if (image) log(image->name);\n}\n`,
      `${H}struct cls { int tt; struct cls *super; };\nstruct cls *real(struct cls *cl) {\n    if (cl == 0) return NULL;\n    while (cl->tt == 1) {\n        cl = cl->super;\n        if (cl == 0) return NULL;\n    }\n    return cl;\n}\n`,
      `${H}struct line { int len; struct line *next; };\nint total(struct line *l, int rows) {\n    int n = 0;\n    for (int r = 0; r < rows && l; r++, l = l->next) {\n        n += l->len;\n    }\n    while (l && l->len > 0) {\n        l = l->next;\n    }\n    return n;\n}\n`,
    ],
  },
  "CWE-416": {
    vulnerable: [
      `${H}int main(int argc, char *argv[]) {\n    char *buffer = malloc(10);\n    if (!buffer) return 1;\n    free(buffer);\n    buffer[0] = 'a';\n    return 0;\n}\n`,
      `${H}struct node { int v; struct node *next; };\nint pop(struct node *head) {\n    struct node *n = head->next;\n    free(n);\n    return n->v;\n}\n`,
      `${H}int main(void) {\n    char *b = malloc(8);\n    if (!b) return 1;\n    if (b[0]) {\n        free(b);\n    }\n    printf("%s", b);\n    return 0;\n}\n`,
      // a member freed and left dangling in a structure that lives on
      `${H}struct cfg { char *fname; int n; };\nint reset(struct cfg *c, const char *p) {\n    free(c->fname);\n    c->n = 0;\n    return 0;\n}\n`,
      `${H}struct seq { void *priv; };\nvoid stop(struct seq *s) {\n    char *iter = s->priv;\n    if (iter) {\n        free(iter);\n    }\n}\n`,
    ],
    secure: [
      `${H}int main(int argc, char *argv[]) {\n    char *buffer = malloc(10);\n    if (!buffer) return 1;\n    buffer[0] = 'a';\n    free(buffer);\n    return 0;\n}\n`,
      `${H}int main(void) {\n    char *b = malloc(8);\n    if (!b) return 1;\n    free(b);\n    b = malloc(16);\n    if (!b) return 1;\n    b[0] = 0;\n    free(b);\n    return 0;\n}\n`,
      `${H}int f(char *b, int err) {\n    if (err) {\n        free(b);\n        return -1;\n    }\n    b[0] = 1;\n    return 0;\n}\n`,
      `${H}struct cfg { char *fname; int n; };\nint reset(struct cfg *c, const char *p) {\n    free(c->fname);\n    c->fname = NULL;\n    return 0;\n}\n`,
      // a destructor frees the owner as well
      `${H}struct seq { void *priv; };\nvoid destroy(struct seq *s) {\n    char *iter = s->priv;\n    free(iter);\n    free(s);\n}\n`,
    ],
  },
  "CWE-125": {
    vulnerable: [
      `${H}int ids[10];\nint getIdFromArray(int index) {\n    return ids[index];\n}\n`,
      `${H}int main(void) {\n    int seq[3] = {1, 5, 7};\n    int i;\n    scanf("%d", &i);\n    if (i < 3) return seq[i];\n    return -1;\n}\n`,
      `${H}int get(int *array, int size, int index) {\n    if (index < size) {\n        return array[index];\n    }\n    return -1;\n}\n`,
    ],
    secure: [
      `${H}int ids[10];\nint getIdFromArray(int index) {\n    if (index < 0 || index >= 10) return -1;\n    return ids[index];\n}\n`,
      `${H}int main(void) {\n    int seq[3] = {1, 5, 7};\n    int i;\n    scanf("%d", &i);\n    if (i >= 0 && i < 3) return seq[i];\n    return -1;\n}\n`,
      `${H}int sum(void) {\n    int a[4] = {1, 2, 3, 4};\n    int s = 0;\n    for (int k = 0; k < 4; k++) s += a[k];\n    return s;\n}\n`,
    ],
  },
  "CWE-787": {
    vulnerable: [
      `${H}int main(void) {\n    char str_a[20];\n    float a = 1.5f;\n    sprintf(str_a, "%f", a);\n    return 0;\n}\n`,
      `${H}int main(int argc, char *argv[]) {\n    char *input = argv[1];\n    for (int i = strlen(input) - 1; i >= 0; i--) {\n        if (input[i] == ' ') input[i] = 0; else break;\n    }\n    input[strlen(input) - 1] = 0;\n    return 0;\n}\n`,
      `${H}void put(int *buf, int len, int pos, int v) {\n    if (pos < len) buf[pos] = v;\n}\n`,
      `${H}void copy(char *dst, const char *src, int n) {\n    memcpy(dst, src, n);\n}\n`,
      `${H}int name(char *out, const char *in) {\n    size_t len = strlen(in);\n    strcpy(out, in);\n    return (int)len;\n}\n`,
      `${H}void join(char *out, const char *b) {\n    if (strlen(b) > 0) strcat(out, b);\n}\n`,
    ],
    secure: [
      `${H}int main(void) {\n    char str_a[20];\n    float a = 1.5f;\n    snprintf(str_a, sizeof(str_a), "%f", a);\n    return 0;\n}\n`,
      `${H}void put(int *buf, int len, int pos, int v) {\n    if (pos >= 0 && pos < len) buf[pos] = v;\n}\n`,
      `${H}void copy(char *dst, const char *src, size_t n, size_t cap) {\n    if (n > cap) n = cap;\n    memcpy(dst, src, n);\n}\n`,
      // the source's length is checked against the destination before an unbounded copy
      `${H}int name(char out[64], const char *in) {\n    size_t len = strlen(in);\n    if (len > 63) return -1;\n    strcpy(out, in);\n    return 0;\n}\n`,
      `${H}int name(char out[64], const char *in) {\n    if (strlen((const char *) in) >= 64) return -1;\n    strcpy(out, (char *) in);\n    return 0;\n}\n`,
    ],
  },
  "CWE-190": {
    vulnerable: [
      `${H}int main(void) {\n    int r = rand() + 1000;\n    printf("%d", r);\n    return 0;\n}\n`,
      `${H}int main(int argc, char *argv[]) {\n    int value = atoi(argv[1]);\n    int result = value + 100000000;\n    printf("%d", result);\n    return 0;\n}\n`,
      `${H}void *grid(int w, int h) {\n    return malloc(w * h * sizeof(int));\n}\n`,
    ],
    secure: [
      `${H}int main(int argc, char *argv[]) {\n    int value = atoi(argv[1]);\n    if (value > INT_MAX - 100000000) return 1;\n    int result = value + 100000000;\n    printf("%d", result);\n    return 0;\n}\n`,
      `${H}int main(void) {\n    int r = rand() % 1000 + 1001;\n    printf("%d", r);\n    return 0;\n}\n`,
      // unary `*` (dereference) and `<<` on a string are no arithmetic
      `${H}int same(int *p, int n) {\n    if (n != *p) return 0;\n    return (int)sizeof(*p) + 0;\n}\n`,
      // pointer declarations multiply nothing
      `${H}int first(struct tok *tokens, int n) {\n    struct tok *key = &tokens[0];\n    char *name = key->value;\n    return name[0];\n}\n`,
      `${H}extern int getMonthlySales(int month);\nint main(void) {\n    long long sum = 0;\n    for (int i = 0; i < 3; i++) sum += getMonthlySales(i);\n    printf("%lld", sum);\n    return 0;\n}\n`,
    ],
  },
};

for (const [cwe, c] of Object.entries(CASES)) {
  test(`${cwe}: vulnerable snippets are flagged`, () => {
    for (const code of c.vulnerable) assert.ok(cwes(code).includes(cwe), `not flagged:\n${code}\n${JSON.stringify(analyzeC(code))}`);
  });
  test(`${cwe}: secure snippets are not flagged`, () => {
    for (const code of c.secure) assert.ok(!cwes(code).includes(cwe), `flagged:\n${code}\n${JSON.stringify(analyzeC(code))}`);
  });
}

// Rule by rule: each rule fires on its vulnerable snippets and stays silent on the secure ones.
const RULE_CASES: Record<string, { cwe: string; vulnerable: string[]; secure: string[] }> = {
  "c-unchecked-call-result": {
    cwe: "CWE-476",
    vulnerable: [
      `${H}int later(struct image *p) {\n    return p->scene >= get_next_image(p)->scene;\n}\n`,
      `${H}int auth(const char *pw, const char *salt) {\n    return strcmp(salt, (char *) crypt(pw, salt)) == 0;\n}\n`,
      `${H}int home_len(void) {\n    return strlen(getenv("HOME"));\n}\n`,
    ],
    secure: [
      `${H}int later(struct image *p) {\n    struct image *next = get_next_image(p);\n    if (next == NULL) return 0;\n    return p->scene >= next->scene;\n}\n`,
      `${H}int auth(const char *pw, const char *salt) {\n    char *c = crypt(pw, salt);\n    if (!c) return 0;\n    return strcmp(salt, c) == 0;\n}\n`,
      // accessors of smart pointers and macros (casts) are not lookups
      `${H}int size(struct holder *h) {\n    return h->ptr.get()->size + TO_NODE(h)->len;\n}\n`,
    ],
  },
  "c-unchecked-null": {
    cwe: "CWE-476",
    vulnerable: [
      `${H}int sum(struct list *l) {\n    struct item *p = list_first(l);\n    return p->v;\n}\n`,
      `${H}int hit(struct tree *t, int k) {\n    struct node *n = tree_lookup(t, k);\n    n->hits++;\n    return 0;\n}\n`,
    ],
    secure: [
      // the step of a for header is tested by the loop's condition before the body runs
      `${H}int walk(struct list *l) {\n    struct item *p;\n    int n = 0;\n    for (p = l->head; p != NULL; p = list_next(p)) n += p->v;\n    return n;\n}\n`,
      `${H}int walk(struct list *l) {\n    struct item *p;\n    int n = 0;\n    for (p = l->head; p; p = get_next(p)) {\n        n += p->v;\n    }\n    return n;\n}\n`,
    ],
  },
  "c-use-after-free": {
    cwe: "CWE-416",
    vulnerable: [
      // C++ delete, then a use
      `${H}void Player::stop() {\n    if (mixer)\n        delete mixer;\n    if (player)\n        mixer->remove(player);\n}\n`,
      // a free through an ops table, then the object is used
      `${H}int add(struct dev *dev, struct ops *ops) {\n    if (ops->init(dev) < 0) {\n        ops->destroy(dev);\n        list_del(&dev->node);\n        return -1;\n    }\n    return 0;\n}\n`,
      // freed, then a goto to an error label that frees it again
      `${H}int parse(char *buf) {\n    struct parser *tvp = parser_create(buf);\n    if (!tvp) goto error;\n    parser_run(tvp);\n    parser_destroy(tvp);\n    if (check() < 0) goto error;\n    return 0;\nerror:\n    if (tvp) parser_destroy(tvp);\n    return -1;\n}\n`,
    ],
    secure: [
      `${H}void Player::stop() {\n    if (player && mixer)\n        mixer->remove(player);\n    delete mixer;\n    mixer = NULL;\n}\n`,
      `${H}int add(struct dev *dev, struct ops *ops) {\n    if (ops->init(dev) < 0) {\n        list_del(&dev->node);\n        ops->destroy(dev);\n        return -1;\n    }\n    return 0;\n}\n`,
      `${H}int parse(char *buf) {\n    struct parser *tvp = parser_create(buf);\n    if (!tvp) goto error;\n    parser_run(tvp);\n    if (check() < 0) goto error;\n    parser_destroy(tvp);\n    return 0;\nerror:\n    if (tvp) parser_destroy(tvp);\n    return -1;\n}\n`,
      `${H}int parse(char *buf) {\n    struct parser *tvp = parser_create(buf);\n    parser_destroy(tvp);\n    tvp = NULL;\n    if (check() < 0) goto error;\n    return 0;\nerror:\n    if (tvp) parser_destroy(tvp);\n    return -1;\n}\n`,
    ],
  },
  "c-dangling-member": {
    cwe: "CWE-416",
    vulnerable: [
      `${H}int init(struct queue *q) {\n    q->fq = alloc_flush_queue(q);\n    if (!q->fq) return -1;\n    if (setup(q)) goto out;\n    return 0;\nout:\n    blk_free_flush_queue(q->fq);\n    return -1;\n}\n`,
      `${H}void stop(struct file *f) {\n    kfree(f->priv);\n}\n`,
      // reassigned on one path only: left dangling when the condition is false
      `${H}int set(struct cfg *c, const char *name) {\n    kfree(c->name);\n    if (name)\n        c->name = kstrdup(name, GFP_KERNEL);\n    return 0;\n}\n`,
    ],
    secure: [
      `${H}int set(struct cfg *c, const char *name) {\n    kfree(c->name);\n    c->name = NULL;\n    if (name)\n        c->name = kstrdup(name, GFP_KERNEL);\n    return 0;\n}\n`,
      `${H}int init(struct queue *q) {\n    q->fq = alloc_flush_queue(q);\n    if (!q->fq) return -1;\n    if (setup(q)) goto out;\n    return 0;\nout:\n    blk_free_flush_queue(q->fq);\n    q->fq = NULL;\n    return -1;\n}\n`,
      `${H}void stop(struct file *f) {\n    kfree(f->priv);\n    f->priv = NULL;\n}\n`,
    ],
  },
  "c-alloc-size-overflow": {
    cwe: "CWE-190",
    vulnerable: [
      `${H}int set(struct cmap *cmap) {\n    struct entry *e = kmalloc(sizeof(*e) * cmap->len, GFP_KERNEL);\n    return e != NULL;\n}\n`,
      `${H}void *copy_audio(int frameSize) {\n    const int count = 65536;\n    return malloc(count * frameSize);\n}\n`,
      `${H}int grow(struct table *t) {\n    t->data = (char **) alloc_chunk(t, ((unsigned) t->rows + 1) * ((unsigned) t->cols + 1) * sizeof(char *));\n    return t->data != NULL;\n}\n`,
    ],
    secure: [
      `${H}int set(struct cmap *cmap) {\n    struct entry *e = kmalloc_array(cmap->len, sizeof(*e), GFP_KERNEL);\n    return e != NULL;\n}\n`,
      `${H}int grow(struct table *t) {\n    if (t->rows < 0 || t->rows > 0x7ffe || t->cols < 0 || t->cols > 0x7ffe) return 0;\n    t->data = (char **) alloc_chunk(t, ((unsigned) t->rows + 1) * ((unsigned) t->cols + 1) * sizeof(char *));\n    return t->data != NULL;\n}\n`,
      `${H}void *copy_audio(int frameSize) {\n    int size;\n    if (mul_overflow(65536, frameSize, &size)) return NULL;\n    return malloc(size);\n}\n`,
    ],
  },
  "c-wrapping-bound-check": {
    cwe: "CWE-190",
    vulnerable: [
      `${H}int in_range(struct mem *mem, unsigned long iova, unsigned long length) {\n    return (iova < mem->iova || iova + length > mem->iova + mem->length) ? -1 : 0;\n}\n`,
      `${H}int unpack(const char *data, size_t ld, size_t pos, size_t size) {\n    if (pos + size <= ld) return data[pos];\n    return -1;\n}\n`,
    ],
    secure: [
      `${H}int in_range(struct mem *mem, unsigned long iova, unsigned long length) {\n    if (iova < mem->iova || length > mem->length || iova > mem->iova + mem->length - length) return -1;\n    return 0;\n}\n`,
      `${H}int unpack(const char *data, size_t ld, size_t pos, size_t size) {\n    if (size <= ld && pos <= ld - size) return data[pos];\n    return -1;\n}\n`,
    ],
  },
  "c-unchecked-arithmetic": {
    cwe: "CWE-190",
    vulnerable: [
      `${H}int room(const unsigned char *end, int n, int used) {\n    return n - used;\n}\n`,
      `${H}int total(int a, int b) {\n    return a + b;\n}\n`,
    ],
    secure: [
      // the distance between two pointers is the safe form of a bounds check
      `${H}int parse(unsigned char **p, const unsigned char *end) {\n    if (end - *p < 2) return -1;\n    return 0;\n}\n`,
      `${H}int room(const unsigned char *start, const unsigned char *end) {\n    return (int) (end - start);\n}\n`,
      // an address moved, a floating-point sum, a C++ stream and a unary `*` after a loop header
      `${H}int at(const char *data, int pos) {\n    const char *p = data + pos;\n    return *p;\n}\n`,
      `${H}double mix(double pixel, double value) {\n    return pixel + value;\n}\n`,
      `${H}void show(std::ostream &out, int n) {\n    out << "n = " << n;\n}\n`,
      `${H}void clear(unsigned char *q, int n) {\n    for (int i = 0; i < 4; i++) *q++ = 0;\n}\n`,
    ],
  },
  "c-unchecked-index": {
    cwe: "CWE-125",
    vulnerable: [
      `${H}int get(int *table, int k) {\n    return table[k];\n}\n`,
      `${H}int at(struct parser *json, int i) {\n    return json->stack[i];\n}\n`,
    ],
    secure: [
      // an index read from a structure member is not the structure pointer used as an index
      `${H}int top(struct parser *json) {\n    return json->stack[json->top];\n}\n`,
      `${H}int get(int *table, int k) {\n    if (k < 0 || k >= 16) return -1;\n    return table[k];\n}\n`,
      // a loop counter that starts at 0 and only grows needs no lower bound; a call's argument is not the index
      `${H}int sum(int *a, int n) {\n    int s = 0, i;\n    for (i = 0; i < n; i++) s += a[i];\n    return s;\n}\n`,
      `${H}int color(struct image *image, int *map) {\n    return map[pixel_index(image)];\n}\n`,
      // a check at the end of a loop body guards the next turn's access
      `${H}int scan(const int *tab, int j, int n) {\n    int s = 0;\n    while (j >= 0) {\n        s += tab[j];\n        if (++j >= n) break;\n    }\n    return s;\n}\n`,
    ],
  },
  "c-null-test-unguarded": {
    cwe: "CWE-476",
    vulnerable: [
      // tested in one branch, dereferenced after it anyway
      `${H}int name_len(struct item *it) {\n    if (it)\n        log_item(it);\n    return it->len;\n}\n`,
      // dereferenced, then tested: the test comes too late
      `${H}int flags(struct conn *c) {\n    int f = c->sock->flags;\n    if (c->sock == NULL)\n        return -1;\n    return f;\n}\n`,
    ],
    secure: [
      `${H}int name_len(struct item *it) {\n    if (!it)\n        return 0;\n    return it->len;\n}\n`,
      `${H}int flags(struct conn *c) {\n    if (c->sock == NULL)\n        return -1;\n    return c->sock->flags;\n}\n`,
      `${H}int total(struct node *n) {\n    int s = 0;\n    for (; n && n->v > 0; n = n->next) s += n->v;\n    return n ? s + n->v : s;\n}\n`,
      // a test in cleanup code says nothing about the main path
      `${H}int run(struct job *j) {\n    int r = j->fn(j->arg);\n    if (r < 0) goto out;\n    return r;\nout:\n    if (j) free(j);\n    return -1;\n}\n`,
    ],
  },
  "c-unchecked-alloc": {
    cwe: "CWE-476",
    vulnerable: [
      `${H}int init(void) {\n    wq = alloc_workqueue("w", 0, 1);\n    register_all();\n    return 0;\n}\n`,
      `${H}int setup(struct dev *d, int n) {\n    d->buf = kzalloc(n, GFP_KERNEL);\n    d->len = n;\n    return 0;\n}\n`,
    ],
    secure: [
      `${H}int init(void) {\n    wq = alloc_workqueue("w", 0, 1);\n    if (!wq)\n        return -ENOMEM;\n    return 0;\n}\n`,
      `${H}int setup(struct dev *d, int n) {\n    d->buf = kzalloc(n, GFP_KERNEL);\n    if (d->buf == NULL)\n        return -ENOMEM;\n    return 0;\n}\n`,
      // handed back to the caller, or from an allocator that aborts on failure
      `${H}char *copy(const char *s) {\n    char *p = strdup(s);\n    return p;\n}\n`,
      `${H}void fill(struct buf *b, int n) {\n    b->data = xmalloc(n);\n}\n`,
    ],
  },
  "c-off-by-one": {
    cwe: "CWE-125",
    vulnerable: [
      `${H}int get(struct cache *c, int index) {\n    if (index > c->count)\n        return -1;\n    return c->entries[index];\n}\n`,
      `${H}int sum(struct table *t) {\n    int s = 0;\n    for (int i = 0; i <= t->size; i++)\n        s += t->cells[i];\n    return s;\n}\n`,
    ],
    secure: [
      `${H}int get(struct cache *c, int index) {\n    if (index >= c->count)\n        return -1;\n    return c->entries[index];\n}\n`,
      `${H}int sum(struct table *t) {\n    int s = 0;\n    for (int i = 0; i < t->size; i++)\n        s += t->cells[i];\n    return s;\n}\n`,
      // an inclusive maximum is a valid index by convention
      `${H}int get(struct cache *c, int index) {\n    if (index > c->max_index)\n        return -1;\n    return c->entries[index];\n}\n`,
    ],
  },
  "c-unchecked-pointer-offset": {
    cwe: "CWE-125",
    vulnerable: [
      `${H}int skip(const unsigned char *p, const unsigned char *end, struct rec *r) {\n    p += r->len;\n    return p[0];\n}\n`,
      `${H}int field(const char *buf, int off) {\n    const char *q = buf + off;\n    return q[0];\n}\n`,
    ],
    secure: [
      `${H}int skip(const unsigned char *p, const unsigned char *end, struct rec *r) {\n    if (r->len > end - p) return -1;\n    p += r->len;\n    return p[0];\n}\n`,
      `${H}int field(const char *buf, int size, int off) {\n    if (off < 0 || off >= size) return -1;\n    const char *q = buf + off;\n    return q[0];\n}\n`,
      // the end of a buffer computed to bound a walk, and a sum inside the check itself
      `${H}int count(const char *buf, int size) {\n    const char *p = buf, *e = buf + size;\n    int n = 0;\n    while (p < e) n += *p++;\n    return n;\n}\n`,
      `${H}int fits(const char *p, const char *end, int len) {\n    return !(p + len > end);\n}\n`,
    ],
  },
  "c-offset-full-size": {
    cwe: "CWE-787",
    vulnerable: [
      `${H}int more(int sock, char *unused) {\n    char line[256];\n    int pos = strlen(line);\n    return recv(sock, line + pos, sizeof(line) - 1, 0);\n}\n`,
      `${H}void tail(int n, int v) {\n    char buf[64];\n    snprintf(&buf[n], sizeof buf, "%d", v);\n}\n`,
    ],
    secure: [
      `${H}int more(int sock, char *unused) {\n    char line[256];\n    int pos = strlen(line);\n    return recv(sock, line + pos, sizeof(line) - pos - 1, 0);\n}\n`,
      `${H}void tail(int n, int v) {\n    char buf[64];\n    if (n < 0 || n >= 64) return;\n    snprintf(&buf[n], sizeof buf - n, "%d", v);\n}\n`,
    ],
  },
  "c-signed-countdown": {
    cwe: "CWE-125",
    vulnerable: [
      `${H}int sum(const unsigned char *p, int len) {\n    int s = 0;\n    while (len--)\n        s += *p++;\n    return s;\n}\n`,
      `${H}int sum(const int *a, const char *hdr) {\n    int s = 0;\n    int n = atoi(hdr);\n    while (n--) {\n        s += a[n];\n    }\n    return s;\n}\n`,
    ],
    secure: [
      `${H}int sum(const unsigned char *p, int len) {\n    int s = 0;\n    while (len-- > 0)\n        s += *p++;\n    return s;\n}\n`,
      // an unsigned count (also as a later declarator of `T a, b;`) stops at 0
      `${H}int sum(const unsigned char *p, const char *hdr) {\n    unsigned short first, n;\n    int s = 0;\n    n = atoi(hdr);\n    while (n--)\n        s += *p++;\n    return s;\n}\n`,
    ],
  },
  "c-field-product-overflow": {
    cwe: "CWE-190",
    vulnerable: [
      `${H}int tiles(struct dec *dec) {\n    dec->numtiles = dec->numh * dec->numv;\n    return dec->numtiles;\n}\n`,
      `${H}int bytes(struct state *st, int row, int rows) {\n    st->bytes = row * rows;\n    return 0;\n}\n`,
    ],
    secure: [
      `${H}int tiles(struct dec *dec) {\n    if (dec->numv && dec->numh > INT_MAX / dec->numv)\n        return -1;\n    dec->numtiles = dec->numh * dec->numv;\n    return dec->numtiles;\n}\n`,
      `${H}int bytes(struct state *st, int row, int rows) {\n    if (row < 0 || row > 4096 || rows < 0 || rows > 4096)\n        return -1;\n    st->bytes = row * rows;\n    return 0;\n}\n`,
      `${H}int square(struct state *st, int v) {\n    if (abs((long)v) <= 46340)\n        st->bytes = v * v;\n    return 0;\n}\n`,
    ],
  },
};

for (const [rule, c] of Object.entries(RULE_CASES)) {
  const fires = (code: string) => analyzeC(code).some((f) => f.rule === rule && f.cwe === c.cwe);
  test(`${rule}: vulnerable snippets are flagged`, () => {
    for (const code of c.vulnerable) assert.ok(fires(code), `not flagged:\n${code}\n${JSON.stringify(analyzeC(code))}`);
  });
  test(`${rule}: secure snippets are not flagged`, () => {
    for (const code of c.secure) assert.ok(!fires(code), `flagged:\n${code}\n${JSON.stringify(analyzeC(code))}`);
  });
}

test("lexer: comments and preprocessor lines dropped, strings kept whole, lines counted", () => {
  const toks = lexC('#define X 1\n/* a\n b */ int x = "a}b"; // c\nchar c = \'}\';\n');
  assert.deepEqual(toks.map((t) => t.text), ["int", "x", "=", '"a}b"', ";", "char", "c", "=", "'}'", ";"]);
  assert.equal(toks[0].line, 3);
  assert.equal(toks[5].line, 4);
});

test("findings carry the line of the faulty access", () => {
  const f = analyzeC(`int main(void) {\n    char *p = malloc(4);\n\n    p[0] = 1;\n    return 0;\n}\n`);
  assert.deepEqual(f.filter((x) => x.cwe === "CWE-476").map((x) => [x.line, x.rule]), [[4, "c-unchecked-null"]]);
});

test("cppcheck adds constant out-of-bounds findings (when installed)", { skip: !cppcheckAvailable() && "cppcheck not installed" }, async () => {
  const code = `int main(void) {\n    int a[4] = {0};\n    a[4] = 1;\n    return a[5];\n}\n`;
  // the value rules see these constant indexes too; cppcheck reports them under its own ids
  assert.deepEqual(analyzeC(code).filter((f) => f.cwe === "CWE-787" || f.cwe === "CWE-125").map((f) => [f.cwe, f.line, f.rule]),
    [["CWE-787", 3, "c-index-past-capacity"], ["CWE-125", 4, "c-index-past-capacity"]]);
  const r = await new BuiltinAnalyzer().analyze({ language: "c", code });
  const oob = r.findings.filter((f) => f.rule.startsWith("cppcheck:")).map((f) => [f.cwe, f.line]);
  assert.deepEqual(oob, [["CWE-787", 3], ["CWE-125", 4]]);
});

test("cppcheck ids map to CWEs; unrelated ids are ignored", () => {
  assert.deepEqual(cppcheckFinding("nullPointer", 3, "m", []), { cwe: "CWE-476", line: 3, rule: "cppcheck:nullPointer", message: "m" });
  assert.equal(cppcheckFinding("arrayIndexOutOfBounds", 1, "m", ["  x = b[7];"])?.cwe, "CWE-125");
  assert.equal(cppcheckFinding("arrayIndexOutOfBounds", 1, "m", ["  b[7] = x;"])?.cwe, "CWE-787");
  assert.equal(cppcheckFinding("unusedVariable", 1, "m", ["int x;"]), null);
});

test("broken generated C (unclosed brackets, stray tokens) is judged without crashing", () => {
  const broken = [
    "int f(char *s) {\n  int n = foo(s;\n  buf[n] = 0;\n  return n;\n}\n",
    "void g(int *p) {\n  x = p[ (1 + ;\n  free(p);\n  y = bar(p\n",
    "int h() {\n  a = b = c[\n",
    "static int k(void) { if (x = (y[ { } ) ; z = q(r[s] ; }",
    "void f() { x = y(z",
  ];
  for (const code of broken) assert.doesNotThrow(() => analyzeC(code), code);
});

test("names of Object.prototype in generated C are plain identifiers to the rules, not table entries", async () => {
  // A generated completion that called `toString(a, b)` crashed an evaluation: the C rules' tables
  // (calls with a mode argument, macro limits, copy and input calls, type sizes) answered for it.
  const names = ["toString", "constructor", "valueOf", "hasOwnProperty", "__proto__", "isPrototypeOf"];
  for (const name of names) {
    const code =
      `${H}typedef int ${name === "__proto__" ? "proto_t" : name};\n` +
      `#if ${name} > 0\n#endif\n` +
      `int main(int argc, char *argv[]) {\n    char buf[8];\n    int n = ${name}(buf, argv[1], 3, 4);\n` +
      `    mkdir(argv[1], ${name});\n    umask(${name});\n    ${name}(buf, 1);\n    buf[n] = 0;\n    return 0;\n}\n`;
    assert.doesNotThrow(() => analyzeC(code), name);
    const { findings } = await new BuiltinAnalyzer(undefined, false).analyze({ code, language: "c" });
    assert.ok(findings.every((f) => f.rule !== "c-permissive-mode" && f.rule !== "c-permissive-umask"), `${name}: not a mode`);
  }
});
