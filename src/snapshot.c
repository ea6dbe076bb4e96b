/* snapshot.c — (being written) */
typedef int bvt_snapshot_placeholder;
