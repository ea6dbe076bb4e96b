/* journal.c — (being written; a stub that fails so the build links) */
#include "journal.h"
#include "error.h"
int bvt_journal_create(bvt_journal **out, const char *path, uint64_t first_seq, uint64_t check, uint32_t mode, uint32_t group_ms, bvt_error *err) { (void)path; (void)first_seq; (void)check; (void)mode; (void)group_ms; *out = NULL; return bvt_fail(err, BVT_EIO, -1, "no journal yet"); }
int bvt_journal_append(bvt_journal *j, const void *rec, size_t n, uint64_t *out_seq) { (void)j; (void)rec; (void)n; (void)out_seq; return BVT_EIO; }
int bvt_journal_wait(bvt_journal *j, uint64_t seq) { (void)j; (void)seq; return BVT_EIO; }
int bvt_journal_sync(bvt_journal *j) { (void)j; return BVT_EIO; }
uint64_t bvt_journal_accepted(const bvt_journal *j) { (void)j; return 0; }
uint64_t bvt_journal_durable(const bvt_journal *j) { (void)j; return 0; }
int bvt_journal_failed(const bvt_journal *j) { (void)j; return 1; }
int bvt_journal_rotate(bvt_journal *j, bvt_journal_name_fn name, void *ud, char **out_path, uint64_t *out_last, bvt_error *err) { (void)j; (void)name; (void)ud; (void)out_path; (void)out_last; return bvt_fail(err, BVT_EIO, -1, "no journal yet"); }
int bvt_journal_close(bvt_journal *j) { (void)j; return BVT_OK; }
int bvt_journal_scan_buffer(const void *data, size_t len, uint64_t check, bvt_journal_record_fn fn, void *ud, bvt_journal_scan *out, bvt_error *err) { (void)data; (void)len; (void)check; (void)fn; (void)ud; (void)out; return bvt_fail(err, BVT_EIO, -1, "no journal yet"); }
int bvt_journal_scan_file(const char *path, uint64_t check, bvt_journal_record_fn fn, void *ud, bvt_journal_scan *out, bvt_error *err) { (void)path; (void)check; (void)fn; (void)ud; (void)out; return bvt_fail(err, BVT_EIO, -1, "no journal yet"); }
int bvt_journal_truncate(const char *path, uint64_t valid_bytes, bvt_error *err) { (void)path; (void)valid_bytes; return bvt_fail(err, BVT_EIO, -1, "no journal yet"); }
