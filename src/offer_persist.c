/* offer_persist.c — (being written) */
typedef int bvt_offer_persist_placeholder;
