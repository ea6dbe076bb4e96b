/* history.c — placeholder until the module lands. */
