/* journal.c — (being written) */
typedef int bvt_journal_placeholder;
