/* snapfile.c — (being written) */
typedef int bvt_snapfile_placeholder;
