/* rfm.c — placeholder until the module lands. */
