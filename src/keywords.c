/* keywords.c — placeholder until the module lands. */
