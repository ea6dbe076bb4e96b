/* alias.c — placeholder until the module lands. */
