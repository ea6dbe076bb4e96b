/* registry_persist.c — (being written) */
typedef int bvt_registry_persist_placeholder;
