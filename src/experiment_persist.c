/* experiment_persist.c — (being written) */
typedef int bvt_experiment_persist_placeholder;
